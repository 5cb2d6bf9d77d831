"""The seek index gives, at every moment, the notebook the recording had then: from the first
entry or from a trimmed start, built in steps by one worker or another, and never a wrong
notebook where a block does not read (it falls back to the snapshots)."""

from __future__ import annotations

import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, TransactionEvent

from collabd import notebook
from collabd.recording import reader, retention, seekindex
from collabd.store import MemoryStore, NewEntry, SeekBlock, SessionRecord, Store
from collabd.store.base import UPDATE
from tests.recording.test_reader import ROOM, T0
from tests.support.nbedits import random_edit


@pytest.fixture(autouse=True)
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Blocks of a few dozen updates, so that a short history has many."""
    monkeypatch.setattr(seekindex, "MIN_BLOCK_BYTES", 600)
    monkeypatch.setattr(seekindex, "MAX_BLOCK_UPDATES", 40)
    seekindex._WARM.clear()
    reader.SEEKS.clear()
    yield
    seekindex._WARM.clear()


def _record(store: Store, steps: int, seed: int) -> list[tuple[float, dict[str, Any]]]:
    """Random edits logged as a hub logs them; (time, notebook then) after each."""
    rng = random.Random(seed)
    doc: Doc[Any] = Doc()
    ynb = YNotebook(doc)
    pending: list[bytes] = []

    def collect(event: TransactionEvent) -> None:
        pending.append(event.update)

    doc.observe(collect)
    notebook.load_into(doc, notebook.empty_notebook())
    t, history = T0, []
    for _ in range(steps):
        t += rng.choice([0.1, 0.3, 1.0])
        store.append(ROOM, [NewEntry(t, UPDATE, "peer:1", u) for u in pending])
        pending.clear()
        history.append((t, notebook.to_json(doc)))
        with doc.transaction():
            for _ in range(rng.choice([1, 1, 3])):
                random_edit(ynb, rng)
    return history


def _build(store: Store, step: int = 10_000) -> int:
    calls = 1
    while seekindex.extend(store, ROOM, step=step):
        calls += 1
    return calls


def _blocks(store: Store) -> list[SeekBlock]:
    found, t = [], float("inf")
    while (block := store.seek_block(ROOM, until_ts=t)) is not None:
        found.append(block)
        t = block.ts - 1e-6 if block.seq else float("-inf")
        if not block.seq:
            break
    return found[::-1]


def test_the_index_gives_the_notebook_at_every_moment(store: Store) -> None:
    history = _record(store, 300, seed=1)
    _build(store)
    blocks = _blocks(store)
    assert len(blocks) >= 5
    last_seq = store.entries(ROOM, kinds=(UPDATE,))[-1].seq
    assert store.seek_index_end(ROOM) == (last_seq, history[-1][0])
    for ts, expected in history:
        for t in (ts, ts + 0.05):  # at an update, and between two
            assert seekindex.notebook_at(store, ROOM, t) == expected, t
            assert reader.notebook_at(store, ROOM, t) == expected


def test_built_in_small_steps_by_workers_that_come_and_go(store: Store) -> None:
    """Each step carries on the block under way (its checkpoint is not written again), whether
    the worker kept its document or a new worker rebuilds it from the store."""
    history = _record(store, 200, seed=2)
    whole = MemoryStore()
    whole.add_session(SessionRecord(ROOM, "dir/nb.ipynb", "e" * 10, "v" * 10, T0))
    for entry in store.entries(ROOM, kinds=(UPDATE,)):
        whole.append(ROOM, [NewEntry(entry.ts, UPDATE, entry.origin, entry.data)])
    _build(whole)
    seekindex._WARM.clear()

    calls, rng = 1, random.Random(3)
    while seekindex.extend(store, ROOM, step=rng.randint(1, 30)):
        calls += 1
        if rng.random() < 0.5:
            seekindex._WARM.clear()  # the worker exited: the next one starts from the store
    assert calls > 10
    # the same blocks as an index built in one go
    assert [(b.seq, b.end_seq) for b in _blocks(store)] == [
        (b.seq, b.end_seq) for b in _blocks(whole)
    ]
    for ts, expected in history[::3]:
        assert seekindex.notebook_at(store, ROOM, ts + 0.05) == expected


def test_where_the_index_does_not_reach_the_snapshots_answer(store: Store) -> None:
    history = _record(store, 120, seed=4)
    _build(store)
    more = _record_more(store, history)
    t, expected = more[-1]
    assert seekindex.notebook_at(store, ROOM, t) is None  # logged after the index was built
    assert reader.notebook_at(store, ROOM, t) == expected
    earlier_t, earlier = history[-1]
    assert seekindex.notebook_at(store, ROOM, earlier_t) == earlier  # up to its end it answers
    _build(store)
    assert seekindex.notebook_at(store, ROOM, t) == expected


def _record_more(
    store: Store, history: list[tuple[float, dict[str, Any]]]
) -> list[tuple[float, dict[str, Any]]]:
    doc = reader.doc_at(store, ROOM, history[-1][0]).doc()
    ynb = YNotebook(doc)
    rng = random.Random(9)
    t, more = history[-1][0], []
    for _ in range(20):
        before = doc.get_state()
        with doc.transaction():
            random_edit(ynb, rng)
        t += 0.5
        store.append(ROOM, [NewEntry(t, UPDATE, "peer:2", doc.get_update(before))])
        more.append((t, notebook.to_json(doc)))
    return more


def test_a_block_that_does_not_read_is_passed_over_not_trusted(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    history = _record(store, 150, seed=5)
    _build(store)
    block = _blocks(store)[2]
    store.add_seek_block(ROOM, SeekBlock(block.seq, block.ts, block.end_seq, block.end_ts, b"??"))
    t, expected = next((ts, nb) for ts, nb in history if block.ts < ts <= block.end_ts)
    with caplog.at_level(logging.WARNING, logger="collabd.recording"):
        assert seekindex.notebook_at(store, ROOM, t) is None
        assert reader.notebook_at(store, ROOM, t) == expected
    assert "not used" in caplog.text
    # and a worker carrying the index on does not trip over it
    _record_more(store, history)
    seekindex._WARM.clear()
    _build(store)


def test_a_trimmed_recording_is_indexed_from_its_new_start(store: Store) -> None:
    history = _record(store, 200, seed=6)
    reader.backfill_snapshots(store, ROOM, every=25)
    cut_t = history[120][0]
    _trim_before(store, cut_t)
    kept = [(ts, nb) for ts, nb in history if ts >= reader.start_of(store, ROOM)]  # type: ignore[operator]
    assert 50 < len(kept) < 120
    _build(store)
    assert _blocks(store)[0].seq > 0  # it starts at the trim's snapshot, not at an empty doc
    for ts, expected in kept:
        assert seekindex.notebook_at(store, ROOM, ts + 0.05) == expected


def test_an_index_trimmed_after_it_was_built_still_answers_where_it_is_kept(store: Store) -> None:
    history = _record(store, 200, seed=7)
    reader.backfill_snapshots(store, ROOM, every=25)
    _build(store)
    _trim_before(store, history[100][0])
    start = reader.start_of(store, ROOM)
    assert start is not None
    for ts, expected in history:
        if ts >= start:
            assert reader.notebook_at(store, ROOM, ts + 0.05) == expected
    assert all(b.seq >= _first_kept_seq(store) for b in _blocks(store))


def _first_kept_seq(store: Store) -> int:
    return store.snapshot_index(ROOM)[0][0]


def _trim_before(store: Store, t: float) -> None:
    """Retention by age, as if it ran one second after `t` with a one-second limit."""
    result = retention.trim(store, ROOM, retention.Policy(max_age_s=1.0), now=t + 1.0)
    assert result["dropped"] > 0


def test_a_change_operations_cannot_express_starts_a_new_checkpoint(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Formatted text (no notebook client writes it, but a client may) has no operation here:
    the index takes a checkpoint after it and goes on, and every moment stays right."""
    history = _record(store, 60, seed=8)
    doc = reader.doc_at(store, ROOM, history[-1][0]).doc()
    before = doc.get_state()
    source = doc.get("cells", type=Array)[0]["source"]
    source.insert(0, "bold", attrs={"bold": True})
    t = history[-1][0] + 1.0
    store.append(ROOM, [NewEntry(t, UPDATE, "peer:3", doc.get_update(before))])
    later = _record_more(store, [(t, notebook.to_json(doc))])
    with caplog.at_level(logging.WARNING, logger="collabd.recording"):
        _build(store)
    assert "indexed by a checkpoint" in caplog.text
    assert store.seek_index_end(ROOM) == (
        store.entries(ROOM, kinds=(UPDATE,))[-1].seq,
        later[-1][0],
    )
    for ts, expected in [
        *history[::5],
        (t, notebook.to_json(reader.doc_at(store, ROOM, t).doc())),
        *later,
    ]:
        assert seekindex.notebook_at(store, ROOM, ts + 0.01) == expected
