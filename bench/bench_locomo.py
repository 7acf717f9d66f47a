"""Retrieval on LoCoMo: ridgeline (BM25, hybrid) against bm25s and Mem0, same data, one process.

Every dialogue turn of the ten LoCoMo conversations is stored as one memory item
("Speaker: text"); every question is one search among its own conversation's turns. The
score is recall@5 and recall@10 of the question's evidence turns (its `evidence` list
names turns by their `dia_id`, such as "D1:3"). No language model is involved.

Systems:
- ridgeline bm25: `ledger.add_note`, `ledger.search(mode="bm25")` (SQLite FTS5).
- ridgeline hybrid: the same plus embeddings, `mode="hybrid"` (reciprocal rank fusion).
  Its add latency includes embedding the turn, as Mem0's does.
- bm25s: its own tokenizer with English stopwords and the Snowball stemmer; the index is
  built once per conversation, so its "add" is the build time divided by the turns.
- mem0: `Memory.add(infer=False)` (stored verbatim, no LLM) into local Qdrant in a temp
  folder, with its embedder's `embed` replaced by ridgeline's model; telemetry off.

Then latency at scale: the turns are replicated to 100,000 notes in one ledger (vectors of
replicas are copied, not recomputed) and 200 questions are searched in each mode. The
same 100,000 vectors are also searched with sqlite-vec, to compare with the numpy matrix.

Run: .venv/bin/python bench/bench_locomo.py [--conversations 10] [--skip-mem0]
Needs the bench extra: pip install -e '.[bench]'
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
import time
from pathlib import Path

# Before Mem0 is imported: it reads these at import time.
os.environ["MEM0_TELEMETRY"] = "False"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np  # noqa: E402

import ridgeline  # noqa: E402
from _timing import percentile, print_table  # noqa: E402
from ridgeline import embedding  # noqa: E402
from ridgeline.recall.vectors import index_for, text_hash  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "bench" / "locomo10.json"
KS = (5, 10)


# -- data -------------------------------------------------------------------------------


def load_conversations(path: Path, limit: int) -> list[dict]:
    """Each conversation as its turns [(dia_id, text)] and questions [(text, evidence)]."""
    conversations = []
    for sample in json.loads(path.read_text())[:limit]:
        talk = sample["conversation"]
        turns = []
        for key, value in talk.items():
            if key.startswith("session_") and isinstance(value, list):
                turns += [(t["dia_id"], f"{t['speaker']}: {t['text']}") for t in value]
        known = {dia_id for dia_id, _ in turns}
        questions = []
        for qa in sample["qa"]:
            evidence = {e.strip() for e in qa.get("evidence", [])} & known
            if evidence:
                questions.append((qa["question"], evidence))
        conversations.append({"id": sample["sample_id"], "turns": turns, "questions": questions})
    return conversations


def recall(ranked: list[str], evidence: set[str], k: int) -> float:
    return len(set(ranked[:k]) & evidence) / len(evidence)


# -- systems ----------------------------------------------------------------------------


class RidgelineSystem:
    def __init__(self, mode: str, folder: Path) -> None:
        self.name, self.mode, self.folder = f"ridgeline {mode}", mode, folder

    def load(self, conversation: dict) -> list[float]:
        self.ledger = ridgeline.open(self.folder / f"{self.mode}-{conversation['id']}.db")
        self.dia_of: dict[int, str] = {}
        index = index_for(self.ledger) if self.mode == "hybrid" else None
        timings = []
        for dia_id, text in conversation["turns"]:
            start = time.perf_counter()
            item = self.ledger.add_note(text)
            if index is not None:
                index.refresh(self.ledger)
            timings.append(time.perf_counter() - start)
            self.dia_of[item.id] = dia_id
        return timings

    def search(self, question: str) -> list[str]:
        hits = self.ledger.search(question, kinds=["note"], limit=max(KS), mode=self.mode)
        return [self.dia_of[hit.item.id] for hit in hits]

    def close(self) -> None:
        self.ledger.close()


class Bm25sSystem:
    name = "bm25s"

    def load(self, conversation: dict) -> list[float]:
        import bm25s
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")
        self.ids = [dia_id for dia_id, _ in conversation["turns"]]
        start = time.perf_counter()
        tokens = bm25s.tokenize([text for _, text in conversation["turns"]], stopwords="en",
                                stemmer=self.stemmer, show_progress=False)
        self.retriever = bm25s.BM25()
        self.retriever.index(tokens, show_progress=False)
        elapsed = time.perf_counter() - start
        return [elapsed / len(self.ids)] * len(self.ids)

    def search(self, question: str) -> list[str]:
        import bm25s

        tokens = bm25s.tokenize(question, stopwords="en", stemmer=self.stemmer,
                                show_progress=False)
        if not tokens.vocab:
            return []
        k = min(max(KS), len(self.ids))
        results, _ = self.retriever.retrieve(tokens, k=k, show_progress=False)
        return [self.ids[i] for i in results[0]]

    def close(self) -> None:
        pass


class Mem0System:
    name = "mem0"

    def __init__(self, folder: Path) -> None:
        from mem0 import Memory

        config = {
            "vector_store": {"provider": "qdrant", "config": {
                "collection_name": "locomo", "path": str(folder / "qdrant"),
                "embedding_model_dims": embedding.DIMENSIONS, "on_disk": True}},
            # A provider must be named; its client is never called: `embed` is replaced
            # below, and infer=False adds make no LLM call.
            "embedder": {"provider": "openai", "config": {
                "api_key": "unused", "embedding_dims": embedding.DIMENSIONS,
                "openai_base_url": "http://127.0.0.1:9"}},
            "llm": {"provider": "openai", "config": {
                "api_key": "unused", "openai_base_url": "http://127.0.0.1:9"}},
            "history_db_path": str(folder / "mem0-history.db"),
        }
        self.memory = Memory.from_config(config)
        model = embedding.shared()
        self.memory.embedding_model.embed = (
            lambda text, memory_action=None: model.embed([text])[0].tolist()
        )

    def load(self, conversation: dict) -> list[float]:
        self.user = conversation["id"]
        timings = []
        for dia_id, text in conversation["turns"]:
            start = time.perf_counter()
            self.memory.add([{"role": "user", "content": text}], user_id=self.user,
                            metadata={"dia_id": dia_id}, infer=False)
            timings.append(time.perf_counter() - start)
        return timings

    def search(self, question: str) -> list[str]:
        found = self.memory.search(question, filters={"user_id": self.user},
                                   top_k=max(KS), threshold=0.0)
        return [hit["metadata"]["dia_id"] for hit in found["results"]]

    def close(self) -> None:
        pass


def evaluate(system, conversations: list[dict]) -> dict:
    adds, searches, scores = [], [], {k: [] for k in KS}
    for conversation in conversations:
        adds += system.load(conversation)
        for question, evidence in conversation["questions"]:
            start = time.perf_counter()
            ranked = system.search(question)
            searches.append(time.perf_counter() - start)
            for k in KS:
                scores[k].append(recall(ranked, evidence, k))
        system.close()
        print(f"  {system.name}: {conversation['id']} done", file=sys.stderr)
    return {
        "system": system.name,
        **{f"recall@{k}": float(np.mean(scores[k])) for k in KS},
        "add p50 ms": percentile(adds, 0.5) * 1e3, "add p95 ms": percentile(adds, 0.95) * 1e3,
        "search p50 ms": percentile(searches, 0.5) * 1e3,
        "search p95 ms": percentile(searches, 0.95) * 1e3,
        "questions": len(scores[KS[0]]),
    }


# -- latency at scale -------------------------------------------------------------------


def build_large_ledger(path: Path, conversations: list[dict], size: int) -> ridgeline.Ledger:
    """`size` notes made of the turns repeated, with vectors copied for the replicas."""
    turns = [text for c in conversations for _, text in c["turns"]]
    vectors = embedding.shared().embed(turns)
    ledger = ridgeline.open(path)
    rows = []
    with ledger.transaction():
        for n in range(size):
            text = turns[n % len(turns)]
            item = ledger.add_note(text)
            rows.append(("memory", item.id, embedding.MODEL_NAME, text_hash(text),
                         vectors[n % len(turns)].tobytes()))
    # Writing the vectors directly spares 100,000 model calls; the index then finds
    # every hash in place and embeds nothing.
    with ledger.storage.transaction() as cursor:
        cursor.executemany(
            "INSERT INTO memory_vectors (source, ref_id, model, text_hash, vector) "
            "VALUES (?, ?, ?, ?, ?)", rows,
        )
    return ledger


def time_searches(ledger: ridgeline.Ledger, questions: list[str], mode: str) -> dict:
    ledger.search(questions[0], mode=mode)  # load the index outside the timing
    timings = []
    for question in questions:
        start = time.perf_counter()
        ledger.search(question, mode=mode, limit=10)
        timings.append(time.perf_counter() - start)
    return {"search p50 ms": percentile(timings, 0.5) * 1e3,
            "search p95 ms": percentile(timings, 0.95) * 1e3}


def time_vector_stores(matrix: np.ndarray, queries: np.ndarray) -> list[dict]:
    """Top-10 by cosine over the same vectors: a numpy matrix product against sqlite-vec."""
    import sqlite3

    import sqlite_vec

    rows = []
    timings = []
    for query in queries:
        start = time.perf_counter()
        scores = matrix @ query
        top = np.argpartition(-scores, 10)[:10]
        top[np.argsort(-scores[top])]
        timings.append(time.perf_counter() - start)
    rows.append({"store": "numpy matrix", "p50 ms": percentile(timings, 0.5) * 1e3,
                 "p95 ms": percentile(timings, 0.95) * 1e3})

    connection = sqlite3.connect(":memory:")
    if not hasattr(connection, "enable_load_extension"):
        # Some Python builds compile sqlite3 without extension loading.
        rows.append({"store": "sqlite-vec vec0 (cannot load: sqlite3 built without "
                              "extension loading)"})
        return rows
    connection.enable_load_extension(True)
    sqlite_vec.load(connection)
    connection.execute(f"CREATE VIRTUAL TABLE v USING vec0(e float[{matrix.shape[1]}])")
    connection.executemany("INSERT INTO v (rowid, e) VALUES (?, ?)",
                           ((i, row.tobytes()) for i, row in enumerate(matrix)))
    timings = []
    for query in queries:
        start = time.perf_counter()
        connection.execute("SELECT rowid, distance FROM v WHERE e MATCH ? AND k = 10",
                           (query.tobytes(),)).fetchall()
        timings.append(time.perf_counter() - start)
    rows.append({"store": "sqlite-vec vec0", "p50 ms": percentile(timings, 0.5) * 1e3,
                 "p95 ms": percentile(timings, 0.95) * 1e3})
    return rows


def time_bm25s_at_scale(conversations: list[dict], size: int, questions: list[str]) -> dict:
    import bm25s
    import Stemmer

    turns = [text for c in conversations for _, text in c["turns"]]
    corpus = [turns[n % len(turns)] for n in range(size)]
    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer,
                                   show_progress=False), show_progress=False)
    timings = []
    for question in questions:
        start = time.perf_counter()
        tokens = bm25s.tokenize(question, stopwords="en", stemmer=stemmer, show_progress=False)
        retriever.retrieve(tokens, k=10, show_progress=False)
        timings.append(time.perf_counter() - start)
    return {"search p50 ms": percentile(timings, 0.5) * 1e3,
            "search p95 ms": percentile(timings, 0.95) * 1e3}


# -- main -------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--conversations", type=int, default=10)
    parser.add_argument("--items", type=int, default=100_000, help="Ledger size for latency.")
    parser.add_argument("--queries", type=int, default=200, help="Searches timed at scale.")
    parser.add_argument("--skip-mem0", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedding.require()
    conversations = load_conversations(args.data, args.conversations)

    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        systems = [RidgelineSystem("bm25", folder), RidgelineSystem("hybrid", folder),
                   Bm25sSystem()]
        if not args.skip_mem0:
            systems.append(Mem0System(folder))
        results = [evaluate(system, conversations) for system in systems]

        print(f"\nLoCoMo retrieval: {len(conversations)} conversations, "
              f"{sum(len(c['turns']) for c in conversations)} turns, "
              f"{results[0]['questions']} questions with evidence\n")
        print_table(results, ["system", "recall@5", "recall@10", "add p50 ms", "add p95 ms",
                              "search p50 ms", "search p95 ms"])
        hybrid = results[1]
        for other in results:
            if other is not hybrid:
                print(f"ridgeline hybrid / {other['system']}: recall@10 "
                      f"{hybrid['recall@10'] / max(other['recall@10'], 1e-9):.3f}x")

        questions = [q for c in conversations for q, _ in c["questions"]]
        random.Random(7).shuffle(questions)
        questions = questions[: args.queries]
        print(f"\nSearch latency at {args.items:,} notes ({len(questions)} questions)\n",
              file=sys.stderr)
        large = build_large_ledger(folder / "large.db", conversations, args.items)
        scale = [{"system": f"ridgeline {mode}", **time_searches(large, questions, mode)}
                 for mode in ("bm25", "hybrid")]
        scale.append({"system": "bm25s", **time_bm25s_at_scale(conversations, args.items,
                                                                  questions)})
        print(f"\nSearch latency at {args.items:,} items ({len(questions)} questions)\n")
        print_table(scale, ["system", "search p50 ms", "search p95 ms"])

        index = index_for(large)
        matrix = index._buffer[: len(index)].copy()
        queries = embedding.shared().embed(questions[:100])
        print(f"\nTop-10 by cosine over {len(matrix):,} vectors (query embedded beforehand)\n")
        print_table(time_vector_stores(matrix, queries), ["store", "p50 ms", "p95 ms"])
        large.close()


if __name__ == "__main__":
    main()
