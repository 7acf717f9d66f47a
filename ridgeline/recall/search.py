"""Search over lessons, notes and run descriptions: full text, vectors, or both.

Full text is the default and needs nothing beyond the database: SQLite ranks FTS5
matches with BM25 (Porter-stemmed words, accents folded), PostgreSQL ranks `tsvector`
matches with `ts_rank` (English stemming). A query is cut into words of letters and
digits, common question words are dropped, and each word is quoted, so no character a
user types can be read as query syntax. Only the SQL fragments that must differ between
the two databases are chosen by `ledger.storage.dialect`.

Vector search embeds the query with the model of `ridgeline.embedding` (the `vector`
extra) and scores it against every stored vector; hybrid search blends the two scores
(`blend`), which on LoCoMo beat reciprocal rank fusion and either ranking alone. Run
hits come back as `MemoryItem`s of kind `run` whose id is the run's id and whose text
is its description.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ridgeline.errors import InputError
from ridgeline.models import MemoryItem, from_timestamp
from ridgeline.recall.text import fts5_query, query_terms, tsquery

if TYPE_CHECKING:
    from ridgeline.ledger import Ledger

MODES = ("auto", "bm25", "vector", "hybrid")
KINDS = ("lesson", "note", "run")

#: Reciprocal rank fusion constant: a hit's fused score is the sum over rankings of
#: 1 / (RRF_K + rank). 60 is the value the method was published with.
RRF_K = 60

#: The full-text share of a hybrid score. Measured on LoCoMo (bench/bench_locomo.py,
#: 1,977 questions): recall@10 was 0.629 for BM25 alone, 0.429 for vectors alone, 0.570
#: for RRF with k=60, 0.650 for the best RRF tried (k=10, vectors weighted 0.7), and 0.660
#: for this blend at 0.6 (0.654 at 0.7, 0.659 at 0.5).
HYBRID_WEIGHT = 0.6

# Each ranking blended in hybrid mode is read this deep, at least.
_FUSION_DEPTH = 100

# Full-text matches read before ties are broken (see `_coverage`).
_TIE_DEPTH = 30

# `ledger.search` results: the SQL for each source and dialect differs only here.
_MEMORY_SOURCE = {
    "sqlite": (
        "memory_fts JOIN memory_items m ON m.id = memory_fts.rowid",
        "memory_fts MATCH ?",
        "-bm25(memory_fts)",
        "m.text",
    ),
    "postgresql": (
        "memory_items m",
        "to_tsvector('english', m.text) @@ to_tsquery('english', ?)",
        "ts_rank(to_tsvector('english', m.text), to_tsquery('english', ?))",
        "m.text",
    ),
}
# SQLite first takes the best-scored matches from the index alone, then joins and filters
# those few: joining every match before sorting read each matching row of the table. When
# filters leave fewer hits than asked for, the exact form above runs instead.
_FAST_DEPTH = 500
_FAST_SQLITE = {
    "memory": (
        "(SELECT rowid AS id, -bm25(memory_fts) AS score FROM memory_fts "
        f"WHERE memory_fts MATCH ? ORDER BY score DESC LIMIT {_FAST_DEPTH}) f "
        "JOIN memory_items m ON m.id = f.id",
        "1 = 1",
        "f.score",
        "m.text",
    ),
    "run": (
        "(SELECT rowid AS id, -bm25(run_fts) AS score FROM run_fts "
        f"WHERE run_fts MATCH ? ORDER BY score DESC LIMIT {_FAST_DEPTH}) f "
        "JOIN runs r ON r.id = f.id",
        "1 = 1",
        "f.score",
        "r.description",
    ),
}
_RUN_SOURCE = {
    "sqlite": (
        "run_fts JOIN runs r ON r.id = run_fts.rowid",
        "run_fts MATCH ?",
        "-bm25(run_fts)",
        "r.description",
    ),
    "postgresql": (
        "runs r",
        "to_tsvector('english', coalesce(r.description, '')) @@ to_tsquery('english', ?)",
        "ts_rank(to_tsvector('english', coalesce(r.description, '')), "
        "to_tsquery('english', ?))",
        "r.description",
    ),
}


@dataclasses.dataclass(frozen=True)
class SearchHit:
    """One result: the item found and its score (higher is better, comparable only
    within one search)."""

    item: MemoryItem
    score: float

    @property
    def kind(self) -> str:
        return self.item.kind

    def to_dict(self) -> dict[str, Any]:
        return {**self.item.to_dict(), "score": self.score}


@dataclasses.dataclass(frozen=True)
class Filters:
    kinds: tuple[str, ...] = KINDS
    tags: tuple[str, ...] = ()
    scope: str | None = None
    since: float | None = None
    until: float | None = None

    @property
    def narrowing(self) -> bool:
        """True when the filters leave out more than forgotten items."""
        return (
            set(self.kinds) != set(KINDS) or bool(self.tags) or self.scope is not None
            or self.since is not None or self.until is not None
        )


def make_filters(
    kinds: Iterable[str] | str | None,
    tags: Iterable[str] | str | None,
    scope: str | None,
    since: datetime | str | float | None,
    until: datetime | str | float | None,
) -> Filters:
    """Checked filters from what a caller passed to `Ledger.search`."""
    from ridgeline.ledger import parse_time
    from ridgeline.recall.memory import check_scope, check_tags

    if isinstance(kinds, str):
        kinds = [kinds]
    chosen = tuple(dict.fromkeys(kinds)) if kinds is not None else KINDS
    for kind in chosen:
        if kind not in KINDS:
            raise InputError(f"expected a kind among {', '.join(KINDS)}, got {kind!r}",
                             field="kinds")
    return Filters(
        kinds=chosen,
        tags=check_tags(tags or ()),
        scope=None if scope is None else check_scope(scope),
        since=None if since is None else parse_time(since, "since"),
        until=None if until is None else parse_time(until, "until"),
    )


# -- filters as SQL --------------------------------------------------------------------


def _memory_clauses(filters: Filters) -> tuple[list[str], list[Any]]:
    kinds = [k for k in filters.kinds if k != "run"]
    clauses = ["m.deleted_at IS NULL", f"m.kind IN ({', '.join('?' * len(kinds))})"]
    params: list[Any] = list(kinds)
    for tag in filters.tags:
        clauses.append("m.id IN (SELECT item_id FROM memory_tags WHERE tag = ?)")
        params.append(tag)
    if filters.scope is not None:
        clauses.append("m.scope = ?")
        params.append(filters.scope)
    for column, op, value in (("m.created_at", ">=", filters.since),
                              ("m.created_at", "<=", filters.until)):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    return clauses, params


def _run_clauses(filters: Filters) -> tuple[list[str], list[Any]]:
    clauses = ["r.description IS NOT NULL"]
    params: list[Any] = []
    # A run is the ledger's; an agent or session scope narrows to the runs it recorded.
    if filters.scope is not None and filters.scope != "ledger":
        prefix, _, name = filters.scope.partition(":")
        clauses.append("r.agent = ?" if prefix == "agent" else "r.session = ?")
        params.append(name)
    for op, value in ((">=", filters.since), ("<=", filters.until)):
        if value is not None:
            clauses.append(f"r.at {op} ?")
            params.append(value)
    return clauses, params


def _searches_memory(filters: Filters) -> bool:
    return any(kind != "run" for kind in filters.kinds)


def _searches_runs(filters: Filters) -> bool:
    # Runs carry no tags, so a tag filter leaves them all out.
    return "run" in filters.kinds and not filters.tags


# -- full text -------------------------------------------------------------------------


def full_text(
    ledger: Ledger, terms: list[str], filters: Filters, limit: int
) -> list[tuple[str, int, float]]:
    """The best `limit` matches of any term as (source, id, score), best first."""
    if not terms:
        return []
    dialect = ledger.storage.dialect
    if dialect == "sqlite":
        terms = _without_common_terms(ledger, terms)
    expression = fts5_query(terms) if dialect == "sqlite" else tsquery(terms)
    hits: list[tuple[str, int, float]] = []
    if _searches_memory(filters):
        clauses, params = _memory_clauses(filters)
        rows = _match(ledger, _MEMORY_SOURCE[dialect], expression, terms, clauses, params,
                      limit)
        hits += [("memory", row_id, score) for row_id, score in rows]
    if _searches_runs(filters):
        clauses, params = _run_clauses(filters)
        rows = _match(ledger, _RUN_SOURCE[dialect], expression, terms, clauses, params,
                      limit, "r")
        hits += [("run", row_id, score) for row_id, score in rows]
    hits.sort(key=lambda hit: -hit[2])
    return hits[:limit]


#: Above this many memory items, words found in more than COMMON_TERM_SHARE of them are
#: left out of a full-text query (but the rarest word is always kept). FTS5 scores every
#: item that holds any query word, so one common word makes a search read a large part of
#: the index; such words add little to BM25 anyway. On 100,000 LoCoMo turns this took the
#: p95 of a search from 65-100 ms to about 10 ms. Smaller ledgers are searched exactly.
PRUNE_ABOVE = 20_000
COMMON_TERM_SHARE = 0.03


def _without_common_terms(ledger: Ledger, terms: list[str]) -> list[str]:
    size = ledger._read("SELECT COALESCE(MAX(id), 0) FROM memory_items")[0][0]
    if size <= PRUNE_ABOVE or len(terms) < 2:
        return terms
    frequency = {
        term: ledger._read(
            "SELECT COUNT(*) FROM memory_fts WHERE memory_fts MATCH ?", (fts5_query([term]),)
        )[0][0]
        for term in terms
    }
    kept = [t for t in terms if 0 < frequency[t] <= COMMON_TERM_SHARE * size]
    return kept or [min(terms, key=lambda t: (frequency[t] == 0, frequency[t]))]


def _match(
    ledger: Ledger,
    source: tuple[str, str, str, str],
    expression: str,
    terms: list[str],
    clauses: list[str],
    params: list[Any],
    limit: int,
    alias: str = "m",
) -> list[tuple[int, float]]:
    wanted = max(int(limit), _TIE_DEPTH)
    fast = _FAST_SQLITE["run" if alias == "r" else "memory"]
    rows = []
    if ledger.storage.dialect == "sqlite":
        rows = _ranked_rows(ledger, fast, expression, clauses, params, wanted, alias)
    if len(rows) < wanted:
        rows = _ranked_rows(ledger, source, expression, clauses, params, wanted, alias)
    return [(int(row_id), value + _coverage(terms, found)) for row_id, value, found in rows]


def _ranked_rows(
    ledger: Ledger,
    source: tuple[str, str, str, str],
    expression: str,
    clauses: list[str],
    params: list[Any],
    wanted: int,
    alias: str,
) -> list[tuple]:
    tables, match, score, text = source
    # PostgreSQL's score repeats the query; FTS5's bm25() takes no parameter.
    score_params = [expression] if "?" in score else []
    # The expression is bound where the source names it: in the FROM subquery of the fast
    # SQLite form, in the WHERE clause otherwise. Both come after the score.
    sql = (
        f"SELECT {alias}.id, {score} AS score, {text} FROM {tables} "
        f"WHERE {match} AND {' AND '.join(clauses)} ORDER BY score DESC, {alias}.id "
        f"LIMIT {wanted:d}"
    )
    return ledger._read(sql, [*score_params, expression, *params])


def _coverage(terms: list[str], text: str) -> float:
    # BM25 gives a word found in half the items or more no weight at all (FTS5 floors its
    # IDF), so in a ledger of a few lessons every match would tie. A thousandth per query
    # word present breaks those ties toward the item that holds more of the query, and is
    # too small to reorder items that BM25 tells apart.
    folded = text.casefold()
    return 0.001 * sum(term[:5] in folded for term in terms)


def full_text_ids(
    ledger: Ledger, terms: list[str], *, kinds: Sequence[str], scope: str, limit: int
) -> list[int]:
    """Ids of the memory items that best match any of `terms` (for duplicate checks)."""
    filters = Filters(kinds=tuple(kinds), scope=scope)
    return [row_id for _, row_id, _ in full_text(ledger, terms, filters, limit)]


# -- vectors and fusion ----------------------------------------------------------------


def allowed_keys(ledger: Ledger, filters: Filters) -> set[tuple[str, int]]:
    """Every (source, id) the filters let through, for masking a vector search."""
    keys: set[tuple[str, int]] = set()
    if _searches_memory(filters):
        clauses, params = _memory_clauses(filters)
        rows = ledger._read(f"SELECT m.id FROM memory_items m WHERE {' AND '.join(clauses)}",
                            params)
        keys.update(("memory", row[0]) for row in rows)
    if _searches_runs(filters):
        clauses, params = _run_clauses(filters)
        rows = ledger._read(f"SELECT r.id FROM runs r WHERE {' AND '.join(clauses)}", params)
        keys.update(("run", row[0]) for row in rows)
    return keys


def fuse(rankings: Sequence[Sequence[tuple[str, int, float]]], limit: int,
         k: int = RRF_K) -> list[tuple[str, int, float]]:
    """Reciprocal rank fusion: each hit scores the sum of 1 / (k + rank) over rankings."""
    fused: dict[tuple[str, int], float] = {}
    for ranking in rankings:
        for rank, (source, row_id, _) in enumerate(ranking, start=1):
            fused[(source, row_id)] = fused.get((source, row_id), 0.0) + 1.0 / (k + rank)
    best = sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
    return [(source, row_id, score) for (source, row_id), score in best[:limit]]


def blend(
    full_text_ranking: Sequence[tuple[str, int, float]],
    vector_ranking: Sequence[tuple[str, int, float]],
    limit: int,
    weight: float = HYBRID_WEIGHT,
) -> list[tuple[str, int, float]]:
    """Hybrid scores: `weight` times the full-text score scaled by the best one, plus the
    rest times the cosine. A hit missing from one ranking gets nothing from it."""
    blended: dict[tuple[str, int], float] = {}
    best = full_text_ranking[0][2] if full_text_ranking else 0.0
    if best > 0:
        for source, row_id, score in full_text_ranking:
            blended[(source, row_id)] = weight * score / best
    for source, row_id, score in vector_ranking:
        key = (source, row_id)
        blended[key] = blended.get(key, 0.0) + (1 - weight) * score
    ranked = sorted(blended.items(), key=lambda pair: (-pair[1], pair[0]))
    return [(source, row_id, score) for (source, row_id), score in ranked[:limit]]


def resolve_mode(mode: str) -> str:
    """The mode a search will run in; `auto` is hybrid when the vector extra is installed."""
    from ridgeline import embedding

    if mode not in MODES:
        raise InputError(f"expected a mode among {', '.join(MODES)}, got {mode!r}", field="mode")
    if mode == "auto":
        return "hybrid" if embedding.available() else "bm25"
    if mode in ("vector", "hybrid"):
        embedding.require()
    return mode


def search(
    ledger: Ledger, query: str, filters: Filters, *, limit: int, mode: str
) -> list[SearchHit]:
    """Ranked hits for a query; see `Ledger.search`."""
    if not isinstance(query, str):
        raise InputError(f"a query must be text, got {type(query).__name__}", field="query")
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise InputError(f"expected a limit of at least 1, got {limit!r}", field="limit")
    mode = resolve_mode(mode)
    if not query.strip() or not filters.kinds:
        return []
    depth = max(limit * 2, _FUSION_DEPTH) if mode == "hybrid" else limit
    rankings = []
    if mode in ("bm25", "hybrid"):
        rankings.append(full_text(ledger, query_terms(query), filters, depth))
    if mode in ("vector", "hybrid"):
        rankings.append(_vector_ranking(ledger, query, filters, depth))
    ranked = rankings[0][:limit] if len(rankings) == 1 else blend(*rankings, limit)
    return _materialize(ledger, ranked)


def _vector_ranking(
    ledger: Ledger, query: str, filters: Filters, depth: int
) -> list[tuple[str, int, float]]:
    from ridgeline.recall.vectors import index_for

    index = index_for(ledger)
    index.refresh(ledger)
    allowed = allowed_keys(ledger, filters) if filters.narrowing else None
    return index.nearest(query, depth, allowed)


def _materialize(ledger: Ledger, ranked: list[tuple[str, int, float]]) -> list[SearchHit]:
    from ridgeline.recall.memory import load_items

    items = load_items(ledger, [row_id for source, row_id, _ in ranked if source == "memory"])
    runs = _run_items(ledger, [row_id for source, row_id, _ in ranked if source == "run"])
    hits = []
    for source, row_id, score in ranked:
        item = (items if source == "memory" else runs).get(row_id)
        # A vector may outlive its item by a moment (forgotten in another process).
        if item is not None:
            hits.append(SearchHit(item, score))
    return hits


def _run_items(ledger: Ledger, run_ids: list[int]) -> dict[int, MemoryItem]:
    if not run_ids:
        return {}
    rows = ledger._read(
        "SELECT id, at, description, agent, session FROM runs "
        f"WHERE id IN ({', '.join('?' * len(run_ids))})",
        run_ids,
    )
    items = {}
    for run_id, at, description, agent, session in rows:
        scope = f"agent:{agent}" if agent else f"session:{session}" if session else "ledger"
        items[run_id] = MemoryItem(
            id=run_id, kind="run", text=description or "",  # type: ignore[arg-type]
            created_at=from_timestamp(at), updated_at=from_timestamp(at), run=run_id,
            scope=scope,
        )
    return items
