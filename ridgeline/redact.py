"""Secret redaction for text that ridgeline stores or prints.

Agent transcripts hold whatever the agent saw: a `cat .env`, an API key pasted into a
prompt, a `curl -H "Authorization: Bearer ..."`. Anything taken from such text passes
through `redact` before it reaches the ledger, a report or stdout.

The patterns favour false positives over leaks: a long random-looking string after
`token=` is removed even when it was harmless. Each match keeps its label (`password=`,
`Bearer `) and loses only the value, so a reader still sees that a secret was there.
`redact` is idempotent: the marker itself matches no pattern.
"""

from __future__ import annotations

import re

MARKER = "[REDACTED]"

# Key blocks first: their bodies contain base64 that the other patterns would split.
_PRIVATE_KEY = re.compile(
    r"-----BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-----"
    r"(?:.*?-----END \1-----|.*\Z)",
    re.DOTALL,
)

# Tokens recognisable by their own shape, wherever they appear.
_TOKENS = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"sk-ant-[A-Za-z0-9_\-]{8,}"
    r"|sk-(?:proj-|live-|test-)?[A-Za-z0-9_\-]{16,}"
    r"|(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}"
    r"|github_pat_[A-Za-z0-9_]{20,}"
    r"|glpat-[A-Za-z0-9_\-]{20,}"
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
    r"|AIza[0-9A-Za-z_\-]{35}"
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"
    r"|hf_[A-Za-z0-9]{30,}"
    r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"
    r")"
)

# `Bearer abc` anywhere; `Basic abc` and `token abc` only in an Authorization header,
# since "basic implementation" and "token embedding" are ordinary prose.
_AUTH_SCHEME = re.compile(
    r"(?i)(\bbearer|\bauthorization\b[\"']?\s*[:=]\s*[\"']?(?:basic|token))(\s+)"
    r"(?!\[REDACTED\])[A-Za-z0-9._~+/=\-]{8,}"
)

# `password=x`, `"api_key": "x"`, `DB_PASSWORD=x`, `export GITHUB_TOKEN='x'`, `secret: x`.
# Any `name = value` on one line is found first, cheaply; the name is then checked for a
# secret word, which must end where a letter would continue it: `author=`, `tokenizer=`
# and `secretary=` are not secrets, `AUTH_TOKEN=` and `api_key_id=` may be.
_SECRET_NAME = re.compile(
    r"(?i)(?:passwords?|passwd|pwd|secrets?|tokens?|api[_-]?keys?|apikey|access[_-]?keys?"
    r"|private[_-]?keys?|client[_-]?secret|credentials?|auth)(?![a-z])"
)
_ASSIGNMENT = re.compile(
    r"(?P<name>\b[A-Za-z][A-Za-z0-9_.\-]*)"
    r"(?P<close>(?:\\?[\"'])?)(?P<sep>[ \t]*[:=][ \t]*)"
    r"(?P<quote>(?:\\?[\"'])?)(?!\[REDACTED\])(?P<value>[^\s\"'\\,;&}]+)"
)

# Values that are not secrets: placeholders, references to other variables, counts
# (`input_tokens=123`, which metrics need intact), paths (`PWD=/home/me`), and code
# (`token: str`, `token = request.get(...)`, `tokens: list[Token]`).
_HARMLESS_VALUE = re.compile(
    r"(?i)^(?:\$\{?[A-Za-z_].*|<[^>]*>?|none|null|true|false|\*+|x+|bearer|basic"
    r"|-?[0-9][0-9.,]{0,11}|~?/[\w./-]*|\.{1,2}/[\w./-]*"
    r"|str|int|float|bool|bytes|dict|list|tuple|set|any|optional|[^(\[]*[(\[].*)$"
)


def redact(text: str) -> str:
    """Replace every secret-looking value in `text` with `[REDACTED]`.

    Args:
        text: any text, typically taken from a transcript.

    Returns:
        The text with private key blocks, API tokens, bearer credentials and the
        values of `password=`/`SECRET=`-style assignments replaced.
    """
    if not text:
        return text
    text = _PRIVATE_KEY.sub(MARKER, text)
    text = _TOKENS.sub(MARKER, text)
    text = _AUTH_SCHEME.sub(lambda m: f"{m.group(1)}{m.group(2)}{MARKER}", text)
    return _ASSIGNMENT.sub(_replace_assignment, text)


def _replace_assignment(match: re.Match[str]) -> str:
    value = match.group("value")
    if not _SECRET_NAME.search(match.group("name")) or _HARMLESS_VALUE.match(value):
        return match.group(0)
    head = match.group("name") + match.group("close") + match.group("sep")
    return head + match.group("quote") + MARKER


def contains_secret(text: str) -> bool:
    """True when `redact` would change `text`."""
    return redact(text) != text
