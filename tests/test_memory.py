"""Lessons and notes on every backend: history, soft deletion, deduplication, bad input."""

from __future__ import annotations

import pytest

from ridgeline.errors import InputError, NotFoundError
from ridgeline.recall.text import DUPLICATE_THRESHOLD, MAX_TEXT_BYTES, decode_text, jaccard


def test_note_update_keeps_old_text_in_history(ledger):
    note = ledger.add_note("profile shows matvec dominates", tags=["profile"])

    updated = ledger.update_note(note.id, text="profile shows matmul dominates")
    history = ledger.memory_history(note.id)

    assert updated.text == "profile shows matmul dominates"
    assert [(h.action, h.text) for h in history] == [
        ("create", "profile shows matvec dominates"),
        ("update", "profile shows matmul dominates"),
    ]
    assert history[0].tags == ("profile",)


def test_history_records_every_kind_of_change_in_order(ledger):
    run = ledger.record(version="a", metrics={"x": 1})
    lesson = ledger.add_lesson("pin the clock before timing kernels", run=run.id, tags=["t"])
    ledger.add_lesson("Pin the clock before timing the kernels")
    ledger.update_lesson(lesson.id, tags=["t", "timing"])
    ledger.update_lesson(lesson.id, text="pin the GPU clock before timing kernels")
    ledger.forget(lesson.id)

    history = ledger.memory_history(lesson.id)

    assert [h.action for h in history] == ["create", "dedup-link", "tag", "update", "forget"]
    assert history[0].run == run.id
    assert history[1].text == "Pin the clock before timing the kernels"
    assert history[2].tags == ("t", "timing")
    assert history[-1].text == "pin the GPU clock before timing kernels"


def test_forget_hides_from_lists_and_search_but_keeps_history(ledger):
    kept = ledger.add_note("the tokenizer cache lives in /tmp")
    gone = ledger.add_note("the tokenizer cache is corrupt after a crash")

    ledger.forget(gone.id)

    assert [n.id for n in ledger.notes()] == [kept.id]
    assert [h.item.id for h in ledger.search("tokenizer cache", mode="bm25")] == [kept.id]
    assert ledger.memory_item(gone.id).deleted_at is not None
    assert [h.action for h in ledger.memory_history(gone.id)] == ["create", "forget"]


def test_forgotten_item_cannot_be_updated(ledger):
    note = ledger.add_note("temporary")
    ledger.forget(note.id)

    with pytest.raises(NotFoundError):
        ledger.update_note(note.id, text="again")


def test_unknown_item_is_not_found(ledger):
    with pytest.raises(NotFoundError):
        ledger.memory_history(404)
    with pytest.raises(NotFoundError):
        ledger.forget(404)


def test_scope_and_tag_filter_lists(ledger):
    ledger.add_note("shared finding", tags=["gpu"])
    ledger.add_note("agent finding", scope="agent:explorer", tags=["gpu"])
    ledger.add_lesson("session rule", scope="session:s1")

    assert [n.text for n in ledger.notes(scope="agent:explorer")] == ["agent finding"]
    assert [n.text for n in ledger.notes(tag="gpu", scope="ledger")] == ["shared finding"]
    assert [lesson.scope for lesson in ledger.lessons()] == ["session:s1"]


def test_bad_scope_is_refused(ledger):
    with pytest.raises(InputError, match="scope"):
        ledger.add_note("x", scope="team")


# -- deduplication -------------------------------------------------------------------


def test_exact_duplicate_lesson_is_counted_not_stored(ledger):
    first = ledger.add_lesson("Check attention scale before fusing kernels.")

    again = ledger.add_lesson("check attention scale before fusing kernels")

    assert again.id == first.id
    assert again.seen == 2
    assert len(ledger.lessons()) == 1


def test_near_duplicate_at_threshold_is_linked(ledger):
    # Six shared words out of seven: Jaccard 0.857, above the threshold.
    text = "check attention scale before fusing kernels"
    near = "check the attention scale before fusing kernels"
    assert jaccard(text, near) >= DUPLICATE_THRESHOLD
    first = ledger.add_lesson(text, tags=["gpu"])

    linked = ledger.add_lesson(near, tags=["attention"])

    assert linked.id == first.id
    assert linked.text == text
    assert set(linked.tags) == {"gpu", "attention"}


def test_lesson_below_threshold_is_kept_apart(ledger):
    # Five shared words out of seven: Jaccard 0.714, below the threshold.
    text = "check attention scale before fusing kernels"
    other = "check attention scale after fusing kernels"
    assert jaccard(text, other) < DUPLICATE_THRESHOLD
    ledger.add_lesson(text)

    kept = ledger.add_lesson(other)

    assert kept.seen == 1
    assert len(ledger.lessons()) == 2


def test_duplicates_are_per_scope_and_notes_are_never_merged(ledger):
    ledger.add_lesson("retry the benchmark twice", scope="agent:a")
    ledger.add_lesson("retry the benchmark twice", scope="agent:b")
    ledger.add_note("same words")
    ledger.add_note("same words")

    assert len(ledger.lessons()) == 2
    assert len(ledger.notes()) == 2


def test_duplicate_of_forgotten_lesson_is_stored_again(ledger):
    first = ledger.add_lesson("never trust a warm cache")
    ledger.forget(first.id)

    again = ledger.add_lesson("never trust a warm cache")

    assert again.id != first.id


# -- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("abc\x00def", "binary"),
        ("bad \udcff surrogate", "UTF-8"),
        ("x" * (MAX_TEXT_BYTES + 1), "limit"),
        (b"bytes", "must be text"),
    ],
)
def test_bad_text_is_refused_and_nothing_is_lost(ledger, text, message):
    ledger.add_note("already here")

    with pytest.raises(InputError, match=message):
        ledger.add_note(text)

    assert [n.text for n in ledger.notes()] == ["already here"]


def test_text_of_exactly_the_limit_is_accepted(ledger):
    text = "é" * (MAX_TEXT_BYTES // 2)

    note = ledger.add_note(text)

    assert ledger.memory_item(note.id).text == text


def test_update_with_bad_text_keeps_the_old_text(ledger):
    note = ledger.add_note("keep me")

    with pytest.raises(InputError):
        ledger.update_note(note.id, text="")

    assert ledger.memory_item(note.id).text == "keep me"
    assert len(ledger.memory_history(note.id)) == 1


def test_invalid_utf8_names_file_and_line():
    with pytest.raises(InputError) as caught:
        decode_text(b"line one\nline two \xc3\x28 here\n", "note", file="notes.txt")

    assert caught.value.file == "notes.txt"
    assert caught.value.line == 2
    assert "UTF-8" in str(caught.value)
