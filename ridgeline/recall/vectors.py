"""Stored embeddings and the in-memory matrix that vector search scores against.

Storage model: `memory_vectors` keeps one vector per (source, id, model) with a hash of
the text it was computed from, so a vector is recomputed only when its text changes and
a ledger opened again does not embed anything twice. Searching multiplies the query
vector by one float32 matrix held in memory: exact, and at 100,000 items of 384
dimensions a few milliseconds on two cores (see the recall benchmark, which also measured
sqlite-vec).

Freshness: before each search the index compares a three-number signature of the ledger
(largest memory id, latest memory change, largest run id; each read from an index) with
the one it last saw, and only when it moved re-reads the items changed since. Writes from
other processes are therefore seen by the next search.
"""

from __future__ import annotations

import hashlib
import logging
import weakref
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

if TYPE_CHECKING:
    from ridgeline.ledger import Ledger

logger = logging.getLogger(__name__)

Key = tuple[str, int]

#: A vector hit below this cosine is dropped: the nearest items to a query that shares
#: no meaning with any of them are noise, and a hybrid search should not pad with them.
#: Unrelated sentences score about 0.0 to 0.15 with this model.
MIN_SIMILARITY = 0.2


class TextEmbedder(Protocol):
    name: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray: ...


_indexes: weakref.WeakKeyDictionary[Any, VectorIndex] = weakref.WeakKeyDictionary()


def index_for(ledger: Ledger, embedder: TextEmbedder | None = None) -> VectorIndex:
    """The vector index of an open ledger, created on first use."""
    index = _indexes.get(ledger)
    if index is None:
        if embedder is None:
            from ridgeline import embedding

            embedder = embedding.shared()
        index = VectorIndex(embedder)
        _indexes[ledger] = index
    return index


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


class VectorIndex:
    """Every live item's vector for one ledger and one model."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        # Rows 0..len(_keys)-1 of _buffer are live; the buffer doubles when full, so
        # adding items one at a time costs amortized constant time, not a full copy.
        self._keys: list[Key] = []
        self._rows: dict[Key, int] = {}
        self._buffer = np.zeros((64, embedder.dimensions), dtype=np.float32)
        self._signature: tuple | None = None

    def __len__(self) -> int:
        return len(self._keys)

    # -- keeping in step ---------------------------------------------------------------

    def refresh(self, ledger: Ledger) -> int:
        """Bring the index up to date with the ledger; returns how many texts it embedded."""
        signature = tuple(ledger._read(
            "SELECT (SELECT MAX(id) FROM memory_items), "
            "(SELECT MAX(updated_at) FROM memory_items), (SELECT MAX(id) FROM runs)"
        )[0])
        if signature == self._signature:
            return 0
        wanted, gone = self._changes(ledger)
        stored = self._stored(ledger, wanted)
        missing = [key for key, text in wanted.items()
                   if stored.get(key, (None,))[0] != text_hash(text)]
        embedded = self._embed_and_store(ledger, missing, wanted)
        for key in wanted:
            self._put(key, embedded[key] if key in embedded else stored[key][1])
        for key in gone:
            self._drop(key)
        self._signature = signature
        return len(embedded)

    def _changes(self, ledger: Ledger) -> tuple[dict[Key, str], set[Key]]:
        # Everything on the first refresh; afterwards what changed since the last one.
        last_memory, last_update, last_run = self._signature or (None, None, None)
        memory_rows = ledger._read(
            "SELECT id, text, deleted_at FROM memory_items WHERE id > ? OR updated_at >= ?",
            (last_memory or 0, last_update or 0.0),
        )
        run_rows = ledger._read(
            "SELECT id, description FROM runs WHERE id > ? AND description IS NOT NULL",
            (last_run or 0,),
        )
        wanted: dict[Key, str] = {}
        gone: set[Key] = set()
        for item_id, text, deleted_at in memory_rows:
            if deleted_at is None:
                wanted[("memory", item_id)] = text
            else:
                gone.add(("memory", item_id))
        for run_id, description in run_rows:
            if description.strip():
                wanted[("run", run_id)] = description
        return wanted, gone

    def _stored(self, ledger: Ledger, wanted: dict[Key, str]) -> dict[Key, tuple[str, Any]]:
        if not wanted:
            return {}
        rows = ledger._read(
            "SELECT source, ref_id, text_hash, vector FROM memory_vectors WHERE model = ?",
            (self.embedder.name,),
        ) if self._signature is None or len(wanted) > 500 else self._stored_few(ledger, wanted)
        return {
            (source, ref_id): (digest, np.frombuffer(bytes(blob), dtype=np.float32))
            for source, ref_id, digest, blob in rows
            if (source, ref_id) in wanted
        }

    def _stored_few(self, ledger: Ledger, wanted: dict[Key, str]) -> list[tuple]:
        rows = []
        for source, ref_id in wanted:
            rows += ledger._read(
                "SELECT source, ref_id, text_hash, vector FROM memory_vectors "
                "WHERE source = ? AND ref_id = ? AND model = ?",
                (source, ref_id, self.embedder.name),
            )
        return rows

    def _embed_and_store(
        self, ledger: Ledger, keys: list[Key], texts: dict[Key, str]
    ) -> dict[Key, np.ndarray]:
        if not keys:
            return {}
        logger.info("embedding %d texts with %s", len(keys), self.embedder.name)
        vectors = self.embedder.embed([texts[key] for key in keys])
        with ledger._write() as cursor:
            cursor.executemany(
                "INSERT INTO memory_vectors (source, ref_id, model, text_hash, vector) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source, ref_id, model) DO UPDATE SET "
                "text_hash = excluded.text_hash, vector = excluded.vector",
                [
                    (source, ref_id, self.embedder.name, text_hash(texts[(source, ref_id)]),
                     vector.astype(np.float32).tobytes())
                    for (source, ref_id), vector in zip(keys, vectors)
                ],
            )
        return dict(zip(keys, vectors))

    def _put(self, key: Key, vector: np.ndarray) -> None:
        row = self._rows.get(key)
        if row is None:
            row = len(self._keys)
            if row == len(self._buffer):
                self._buffer = np.concatenate([self._buffer, np.zeros_like(self._buffer)])
            self._keys.append(key)
            self._rows[key] = row
        self._buffer[row] = vector

    def _drop(self, key: Key) -> None:
        # Move the last live row into the hole so the live rows stay contiguous.
        row = self._rows.pop(key, None)
        if row is None:
            return
        last = len(self._keys) - 1
        if row != last:
            moved = self._keys[last]
            self._buffer[row] = self._buffer[last]
            self._keys[row] = moved
            self._rows[moved] = row
        self._keys.pop()

    # -- searching ---------------------------------------------------------------------

    def nearest(
        self, query: str, limit: int, allowed: Iterable[Key] | None = None
    ) -> list[tuple[str, int, float]]:
        """The `limit` items closest to the query by cosine, as (source, id, score)."""
        if not self._keys:
            return []
        vector = self.embedder.embed([query])[0]
        scores = self._buffer[: len(self._keys)] @ vector
        if allowed is not None:
            allowed = set(allowed)
            mask = np.fromiter((key in allowed for key in self._keys), dtype=bool,
                               count=len(self._keys))
            scores = np.where(mask, scores, -np.inf)
        count = min(limit, len(scores))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [
            (*self._keys[i], float(scores[i])) for i in top if scores[i] >= MIN_SIMILARITY
        ]
