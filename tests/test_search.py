"""`Ledger.search` on every backend: ranking, filters, query syntax, vectors."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ridgeline import embedding
from ridgeline.errors import InputError
from ridgeline.recall.search import blend, fuse

needs_vectors = pytest.mark.skipif(
    not embedding.available(), reason="vector search needs the 'vector' extra"
)

LESSONS = [
    "halve the batch size when the GPU runs out of memory",
    "re-run the correctness check after every kernel fusion",
    "pin the GPU clock before timing anything, or numbers drift by 8%",
    "the tokenizer cache must be cleared after changing the vocabulary",
    "never benchmark with the debug build: asserts cost 30%",
    "write the results file to a temporary name, then rename it",
]


@pytest.fixture
def stocked(ledger):
    for text in LESSONS:
        ledger.add_lesson(text)
    ledger.add_note("profile: matvec takes 71% of decode time", tags=["profile"])
    ledger.record(version="gpu_v3", metrics={"tok_per_sec": 55.2},
                  description="fused the attention softmax into the matmul kernel")
    return ledger


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("out of memory crash, what should I do with the batch?", LESSONS[0]),
        ("fusing kernels broke correctness", LESSONS[1]),
        ("timings drift between runs", LESSONS[2]),
        ("vocabulary changed and the tokenizer cache is stale", LESSONS[3]),
        ("is the debug build ok for benchmarking?", LESSONS[4]),
    ],
)
def test_lesson_found_from_the_agents_own_words(stocked, query, expected):
    hits = stocked.search(query, kinds=["lesson"], mode="bm25")

    assert hits[0].item.text == expected


def test_run_descriptions_are_searchable(stocked):
    hits = stocked.search("attention softmax", mode="bm25")

    assert hits[0].kind == "run"
    assert hits[0].item.id == 1
    assert hits[0].to_dict()["kind"] == "run"


def test_hits_are_ranked_best_first_with_scores(stocked):
    hits = stocked.search("GPU memory batch", mode="bm25")

    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].item.text == LESSONS[0]
    assert set(hits[0].to_dict()) >= {"id", "kind", "text", "score", "tags"}


def test_limit_caps_the_hits(stocked):
    # "GPU" is in two lessons and "kernel" in a lesson and a run.
    assert len(stocked.search("GPU kernel", mode="bm25", limit=2)) == 2


def test_kind_filter(stocked):
    hits = stocked.search("matvec decode kernel", kinds=["note"], mode="bm25")

    assert [h.kind for h in hits] == ["note"]


def test_tag_filter_needs_every_tag_and_leaves_out_runs(ledger):
    ledger.add_note("gpu warmup matters", tags=["gpu", "timing"])
    ledger.add_note("gpu memory matters", tags=["gpu"])
    ledger.record(version="a", metrics={"x": 1}, description="gpu run")

    hits = ledger.search("gpu", tags=["gpu", "timing"], mode="bm25")

    assert [h.item.text for h in hits] == ["gpu warmup matters"]


def test_scope_filter_covers_items_and_runs(ledger):
    ledger.add_note("cache finding", scope="agent:scout")
    ledger.add_note("cache finding for all")
    ledger.record(version="a", metrics={"x": 1}, description="cache run", agent="scout")
    ledger.record(version="b", metrics={"x": 1}, description="cache run elsewhere", agent="other")

    hits = ledger.search("cache", scope="agent:scout", mode="bm25")

    assert sorted((h.kind, h.item.text) for h in hits) == [
        ("note", "cache finding"), ("run", "cache run"),
    ]


def test_time_filter(ledger):
    ledger.record(version="a", metrics={"x": 1}, at="2026-04-20T01:00:00Z",
                  description="early cache run")
    ledger.record(version="b", metrics={"x": 1}, at="2026-04-20T05:00:00Z",
                  description="late cache run")

    hits = ledger.search("cache", since="2026-04-20T02:00:00Z", mode="bm25")
    early = ledger.search("cache", until="2026-04-20T02:00:00Z", mode="bm25")

    assert [h.item.text for h in hits] == ["late cache run"]
    assert [h.item.text for h in early] == ["early cache run"]


def test_bad_filters_are_refused(ledger):
    with pytest.raises(InputError, match="kind"):
        ledger.search("x", kinds=["idea"])
    with pytest.raises(InputError, match="mode"):
        ledger.search("x", mode="fuzzy")
    with pytest.raises(InputError, match="limit"):
        ledger.search("x", limit=0)


def test_empty_and_symbol_only_queries_find_nothing(stocked):
    assert stocked.search("", mode="bm25") == []
    assert stocked.search('"*-:()', mode="bm25") == []


@pytest.mark.parametrize(
    "query",
    ['"unbalanced', "NEAR(gpu memory, 2)", "gpu AND NOT memory", "-gpu", "gpu*", "col:gpu",
     "(gpu OR", "^gpu", "gpu + memory", "'single' quotes", "\\x00", "%s ? $1 ;--"],
)
def test_query_syntax_characters_are_plain_text(stocked, query):
    hits = stocked.search(query, mode="bm25")

    assert all(h.score >= 0 or h.kind for h in hits)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=60))
def test_any_query_never_raises(stocked, query):
    stocked.search(query, mode="bm25")
    stocked.search(query + ' " AND ( NEAR * : -', mode="bm25")


def test_fusion_rewards_agreement():
    bm25 = [("memory", 1, 9.0), ("memory", 2, 5.0), ("memory", 3, 1.0)]
    vector = [("memory", 2, 0.9), ("memory", 4, 0.8), ("memory", 1, 0.1)]

    fused = fuse([bm25, vector], limit=4)

    assert [row_id for _, row_id, _ in fused] == [2, 1, 4, 3]


def test_blend_weighs_full_text_and_cosine():
    bm25 = [("memory", 1, 8.0), ("memory", 2, 4.0)]
    vector = [("memory", 2, 0.9), ("memory", 3, 0.8)]

    blended = blend(bm25, vector, limit=3, weight=0.6)

    # 2: 0.6 * 4/8 + 0.4 * 0.9;  1: 0.6 * 8/8;  3: 0.4 * 0.8.
    assert [(row_id, round(score, 3)) for _, row_id, score in blended] == [
        (2, 0.66), (1, 0.6), (3, 0.32),
    ]


# -- vectors -------------------------------------------------------------------------


@needs_vectors
def test_vector_search_finds_a_paraphrase_sharing_no_word(stocked):
    hits = stocked.search("VRAM exhausted: shrink inputs per step", kinds=["lesson"],
                          mode="vector")

    assert hits[0].item.text == LESSONS[0]


@needs_vectors
def test_hybrid_search_sees_new_updated_and_forgotten_items(stocked):
    stocked.search("warm up", mode="hybrid")
    note = stocked.add_note("warm the caches with three untimed iterations first")
    assert stocked.search("warm-up runs before measuring", mode="hybrid")[0].item.id == note.id

    stocked.update_note(note.id, text="compile shaders ahead of time to avoid stalls")
    assert stocked.search("precompile shaders", mode="hybrid")[0].item.id == note.id

    stocked.forget(note.id)
    assert note.id not in [h.item.id for h in stocked.search("precompile shaders",
                                                             kinds=["note"], mode="hybrid")]


@needs_vectors
def test_vector_search_respects_filters(stocked):
    hits = stocked.search("memory", kinds=["note"], tags=["profile"], mode="vector")

    assert [h.item.tags for h in hits] == [("profile",)]


@needs_vectors
def test_vectors_are_stored_once(ledger):
    from ridgeline.recall.vectors import VectorIndex

    ledger.add_note("stored vectors survive a reopen")
    ledger.search("vectors", mode="vector")
    fresh = VectorIndex(embedding.shared())

    assert fresh.refresh(ledger) == 0
    assert len(fresh) == 1


def test_vector_mode_without_extra_says_how_to_install(ledger, monkeypatch):
    monkeypatch.setattr(embedding, "available", lambda: False)

    with pytest.raises(InputError, match=r"ridgeline\[vector\]"):
        ledger.search("x", mode="vector")
    assert ledger.search("x", mode="auto") == []


def test_upgraded_ledger_indexes_what_it_already_held(sqlite_location, monkeypatch):
    import ridgeline
    from ridgeline.storage import migrations

    with monkeypatch.context() as patch:
        patch.setattr(migrations, "MIGRATIONS", [migrations.m001_core])
        with ridgeline.open(sqlite_location) as old:
            old.add_note("written before search existed")
            old.record(version="a", metrics={"x": 1}, description="an old softmax run")

    with ridgeline.open(sqlite_location) as upgraded:
        notes = upgraded.search("before search existed", mode="bm25")
        runs = upgraded.search("softmax", mode="bm25")

    assert [h.item.text for h in notes] == ["written before search existed"]
    assert [h.kind for h in runs] == ["run"]


def test_large_ledgers_leave_out_words_most_items_share(sqlite_location, monkeypatch):
    import ridgeline
    from ridgeline.recall import search

    monkeypatch.setattr(search, "PRUNE_ABOVE", 10)
    monkeypatch.setattr(search, "COMMON_TERM_SHARE", 0.2)
    with ridgeline.open(sqlite_location) as ledger:
        with ledger.transaction():
            for i in range(40):
                ledger.add_note(f"kernel timing report number {i}")
            ledger.add_note("kernel crashed when the shared buffer overflowed")

        kept = search._without_common_terms(ledger, ["kernel", "buffer", "overflowed"])
        only_common = search._without_common_terms(ledger, ["kernel", "timing", "zzz"])
        hits = ledger.search("kernel buffer", mode="bm25", limit=3)

    assert kept == ["buffer", "overflowed"]
    assert only_common == ["timing"]  # the rarest word that occurs at all is kept
    assert hits[0].item.text == "kernel crashed when the shared buffer overflowed"


def test_filter_finds_a_match_ranked_below_the_first_five_hundred(sqlite_location):
    import ridgeline

    with ridgeline.open(sqlite_location) as ledger:
        with ledger.transaction():
            for i in range(600):
                ledger.add_note(f"kernel kernel kernel tuning pass {i}")
            ledger.add_note("a long note that mentions the kernel only once among many "
                            "other words about scheduling and memory", tags=["rare"])

        hits = ledger.search("kernel", tags=["rare"], mode="bm25")

    assert [hit.item.tags for hit in hits] == [("rare",)]
