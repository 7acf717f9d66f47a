"""Text rules for memory: what an item may hold, how words are cut, how queries are quoted.

Everything here is pure: no database, no model. The same word cutting serves the full-text
queries (SQLite FTS5 and PostgreSQL tsquery) and the near-duplicate test, so that "the same
words" means one thing everywhere.
"""

from __future__ import annotations

import re

from ridgeline.errors import InputError

#: The largest text a memory item may hold, in UTF-8 bytes. Larger text belongs in an
#: artifact file; it is refused rather than cut so that nothing is silently lost.
MAX_TEXT_BYTES = 1024 * 1024

#: Two lessons whose word sets have a Jaccard similarity at or above this are one lesson.
#: 0.8 lets a lesson differ from an earlier one by about one word in five (an article, a
#: plural, a reordering) and still be linked; a change of one key word in a short lesson
#: ("before" for "after" in six words) falls below it and is kept apart.
DUPLICATE_THRESHOLD = 0.8

# Letters and digits only: a word cut this way can never carry query syntax (quotes,
# `*`, `-`, `:`, parentheses), so quoting it is always safe in FTS5 and tsquery alike.
_WORD = re.compile(r"[^\W_]+")

# Words so common in questions that OR-ing them in would make every item match.
STOPWORDS = frozenset(
    """a about after all also am an and any are as at be been before being but by can
    could did do does doing for from had has have he her hers him his how i if in into is
    it its me my of on or our she so some than that the their them then there these they
    this those to too up us was we were what when where which who whom why will with would
    you your""".split()
)

# Words a query may hold at most; a pasted page should not become a 10,000-term query.
_MAX_QUERY_WORDS = 64


def words(text: str) -> list[str]:
    """The words of a text, case-folded, in order; punctuation and symbols dropped."""
    return _WORD.findall(text.casefold())


def jaccard(a: str, b: str) -> float:
    """Similarity of two texts' word sets: shared words over all words (1.0 when equal)."""
    left, right = set(words(a)), set(words(b))
    if not left and not right:
        return 1.0
    return len(left & right) / len(left | right)


def query_terms(query: str, *, keep_stopwords: bool = False) -> list[str]:
    """The distinct words of a query worth searching for, in order.

    Stopwords are dropped unless the query holds nothing else.
    """
    terms = list(dict.fromkeys(words(query)))
    if not keep_stopwords:
        content = [t for t in terms if t not in STOPWORDS]
        terms = content or terms
    return terms[:_MAX_QUERY_WORDS]


def fts5_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: any of the terms, each as a quoted string."""
    return " OR ".join(f'"{term}"' for term in terms)


def tsquery(terms: list[str]) -> str:
    """A PostgreSQL to_tsquery expression: any of the terms, each quoted as a lexeme."""
    return " | ".join(f"'{term}'" for term in terms)


def check_text(text: object, kind: str, *, file: str | None = None) -> str:
    """The text itself if a memory item may hold it.

    Raises:
        InputError: empty text, binary data (a NUL character), text that cannot be
            written as UTF-8, or more than `MAX_TEXT_BYTES`.
    """
    if not isinstance(text, str):
        raise InputError(f"a {kind} must be text, got {type(text).__name__}", file=file)
    if not text.strip():
        raise InputError(f"a {kind} needs some text; got an empty one", file=file, field="text")
    if "\x00" in text:
        raise InputError(
            f"a {kind} must be text, not binary data (it holds a NUL character)",
            file=file, field="text",
        )
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError as error:
        raise InputError(
            f"a {kind} must be valid Unicode; character {error.start} cannot be written as "
            "UTF-8",
            file=file, field="text",
        ) from None
    _check_size(size, kind, file)
    return text


def decode_text(data: bytes, kind: str, *, file: str) -> str:
    """Text read from a file or stdin, decoded as strict UTF-8 and checked.

    Raises:
        InputError: naming the file and the line of the first bad byte.
    """
    _check_size(len(data), kind, file)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(
            f"binary data, not text (a NUL byte at offset {nul}); a {kind} must be UTF-8 text",
            file=file, line=data[:nul].count(b"\n") + 1,
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not valid UTF-8 (byte {data[error.start]:#04x} at offset {error.start}); "
            "convert the file to UTF-8 first, e.g. with iconv",
            file=file, line=data[: error.start].count(b"\n") + 1,
        ) from None
    return check_text(text, kind, file=file)


def _check_size(size: int, kind: str, file: str | None) -> None:
    if size > MAX_TEXT_BYTES:
        raise InputError(
            f"a {kind} is {size:,} bytes; the limit is {MAX_TEXT_BYTES:,} (1 MiB). Keep the "
            "text short and store the rest as an artifact of its run",
            file=file, field="text",
        )
