"""SQLite's append on the caller's thread (`append_now`): only when it cannot wait on anything.

The hub calls it on its event loop; whatever it refuses goes to the I/O thread (`append`). A real
SQLite file in WAL mode throughout. These are the appends of a store that does not hold the
pending-appends file (another process holds it: `test_pending.py` has the holder's).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.store import MemoryStore, NewEntry, SQLiteStore
from collabd.store import sqlite as sqlite_store
from collabd.store.base import UPDATE
from collabd.store.journal import Journal

ROOM = "r1"


def entry(i: int, size: int = 8) -> NewEntry:
    return NewEntry(1_700_000_000.0 + i, UPDATE, "peer:1", bytes([i % 256]) * size)


def without_pending_file(db: Path) -> Journal:
    """The pending-appends file held, as by another process's store."""
    held = Journal.claim(db.with_name(db.name + "-pending"))
    assert held is not None
    return held


@pytest.fixture(autouse=True)
def no_slow_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    """An append slowed by a loaded machine (tests in parallel) does not pause the inline ones
    here; the test of that pause sets its own limit."""
    monkeypatch.setattr(sqlite_store, "INLINE_SLOW_S", 60.0)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    held = without_pending_file(tmp_path / "s.db")
    s = SQLiteStore(tmp_path / "s.db")
    yield s
    s.close()
    held.close(remove=True)


def test_inline_appends_are_the_log_in_order_with_their_seqs(store: SQLiteStore) -> None:
    assert store.append_now(ROOM, [entry(0)]) is None  # none before the I/O thread's first
    seqs = [store.append(ROOM, [entry(0)])]
    batches = [[entry(i)] if i % 2 else [entry(i + 100), entry(i)] for i in range(1, 6)]
    for batch in batches:
        seq = store.append_now(ROOM, batch)
        assert seq is not None
        seqs.append(seq)
    logged = store.entries(ROOM)
    assert [e.data[0] for e in logged] == [0, 1, 102, 2, 3, 104, 4, 5]
    assert [e.seq for e in logged if e.data[0] < 100] == seqs  # each append's last entry


def test_one_append_in_a_run_goes_by_the_io_thread(store: SQLiteStore) -> None:
    store.append(ROOM, [entry(0)])
    for i in range(sqlite_store.INLINE_RUN):
        assert store.append_now(ROOM, [entry(i)]) is not None
    assert store.append_now(ROOM, [entry(0)]) is None  # its turn: the I/O thread's append
    store.append(ROOM, [entry(0)])
    assert store.append_now(ROOM, [entry(1)]) is not None


def test_never_waits_for_another_thread(store: SQLiteStore) -> None:
    store.append(ROOM, [entry(0)])
    holding, release = threading.Event(), threading.Event()

    def long_read() -> None:  # a reader thread in the middle of a query, as the store sees it
        with store._lock:
            holding.set()
            release.wait(30)

    reader = threading.Thread(target=long_read)
    reader.start()
    try:
        assert holding.wait(30)
        assert store.append_now(ROOM, [entry(1)]) is None  # refused at once, not waited for
    finally:
        release.set()
        reader.join()
    assert store.append_now(ROOM, [entry(2)]) is not None
    assert [e.data[0] for e in store.entries(ROOM)] == [0, 2]


@contextlib.contextmanager
def another_writer(path: Path, for_s: float) -> Iterator[None]:
    """Another connection, as another process writing would be, holds the database's write lock
    for `for_s` seconds (and the block waits for it to let go)."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    done = threading.Timer(for_s, lambda: other.execute("COMMIT"))
    done.start()
    try:
        yield
    finally:
        done.join()
        other.close()


def test_never_waits_for_another_process_writing(store: SQLiteStore) -> None:
    store.append(ROOM, [entry(0)])
    # 2 s: an append that waited for it (SQLite's 5 s busy timeout) would then succeed
    with another_writer(store.path, 2.0):
        assert store.append_now(ROOM, [entry(1)]) is None  # not waited for: nothing written
        assert store.append_now(ROOM, [entry(1), entry(2)]) is None
    assert store.append_now(ROOM, [entry(3)]) is not None
    assert [e.data[0] for e in store.entries(ROOM)] == [0, 3]


def test_other_calls_wait_for_another_process_as_before(store: SQLiteStore) -> None:
    """The inline appends' settings do not leak into the I/O thread's calls."""
    store.append(ROOM, [entry(0)])
    assert store.append_now(ROOM, [entry(1)]) is not None
    with another_writer(store.path, 0.5):
        store.append(ROOM, [entry(2)])  # waits for the other writer (SQLite's busy timeout)
    assert [e.data[0] for e in store.entries(ROOM)] == [0, 1, 2]


def test_a_slow_append_sends_the_next_ones_to_the_io_thread(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.append(ROOM, [entry(0)])
    monkeypatch.setattr(sqlite_store, "INLINE_SLOW_S", 0.0)  # every append counts as slow
    monkeypatch.setattr(sqlite_store, "INLINE_PAUSE_S", 1.0)
    assert store.append_now(ROOM, [entry(1)]) is not None  # done, and then no more for a while
    assert store.append_now(ROOM, [entry(2)]) is None
    store.append(ROOM, [entry(2)])
    assert store.append_now(ROOM, [entry(3)]) is None  # still paused
    monkeypatch.setattr(sqlite_store, "INLINE_SLOW_S", 60.0)
    time.sleep(1.2)  # the pause is over
    assert store.append_now(ROOM, [entry(3)]) is not None
    assert [e.data[0] for e in store.entries(ROOM)] == [0, 1, 2, 3]


def test_inline_appends_never_checkpoint_and_the_io_threads_do(tmp_path: Path) -> None:
    """A checkpoint copies the WAL into the database file and syncs it: never on the loop."""
    db = tmp_path / "s.db"
    held = without_pending_file(db)
    store = SQLiteStore(db)
    try:
        store.append(ROOM, [entry(0)])
        size = db.stat().st_size
        # ~6 MB of log, well past the 1,000 pages at which SQLite checkpoints by itself
        for i in range(sqlite_store.INLINE_RUN - 1):
            assert store.append_now(ROOM, [entry(i, size=30_000)]) is not None
        assert db.stat().st_size == size
        store.append(ROOM, [entry(1)])  # the I/O thread's commit checkpoints
        assert db.stat().st_size > size + 5_000_000
        assert len(store.entries(ROOM, limit=1000)) == sqlite_store.INLINE_RUN + 1
    finally:
        store.close()
        held.close(remove=True)


def test_a_store_that_cannot_promise_it_never_appends_inline() -> None:
    store = MemoryStore()
    assert store.append_now(ROOM, [entry(0)]) is None
    assert store.entries(ROOM) == []
