"""Import of experiment results files: autoresearch's `results.tsv` and its relatives.

A results file is tab-separated text with a header row and one row per experiment, in the
order the experiments ran. Every loop writes its own columns, so the importer reads the
header by meaning rather than by a fixed schema:

- an identifier column (`commit`, `experiment`, `config`, ...) names the version, unless
  a `version` column does;
- a status column (`status`) says keep, discard, crash or anything else; a correctness
  column (`correctness`) with PASS/FAIL stands in for it when there is no status column;
- numeric columns are metrics; one or more of them are objectives, the rest side metrics
  (memory, parameter counts) that are stored on the run but never set a record;
- a regime column (`regime`, or a low-cardinality text column whose name says family,
  technique, kind, type or category) names the family of technique;
- a description column, and optional richer columns: `parents`, `intent`, `at`, `hours`,
  `tool_calls`, `reason`, `lesson`, `commit`, `filled_in` (ignored: it documents where a
  value came from).

The whole import is one transaction. Each run keeps its file and line as provenance and an
idempotency key built from both, so importing a file again adds only the lines that are new.
"""

from ridgeline.readers.results._importer import (
    ROW_SECONDS,
    ImportReport,
    Sidecar,
    best_values,
    import_results,
    read_sidecar,
    sidecar_for,
)
from ridgeline.readers.results._rows import (
    AGREEMENT,
    Entry,
    ObjectiveChoice,
    ParsedResults,
    SkippedLine,
    choose_objectives,
    infer_objective,
    name_direction,
    parse_results,
    read_entry,
    settle_outcomes,
)
from ridgeline.readers.results._table import (
    Layout,
    decode_text,
    detect_layout,
    parse_number,
    read_text,
    split_rows,
)

__all__ = [
    "AGREEMENT",
    "ROW_SECONDS",
    "Entry",
    "ImportReport",
    "Layout",
    "ObjectiveChoice",
    "ParsedResults",
    "Sidecar",
    "SkippedLine",
    "best_values",
    "choose_objectives",
    "decode_text",
    "detect_layout",
    "import_results",
    "infer_objective",
    "name_direction",
    "parse_number",
    "parse_results",
    "read_entry",
    "read_sidecar",
    "read_text",
    "settle_outcomes",
    "sidecar_for",
    "split_rows",
]
