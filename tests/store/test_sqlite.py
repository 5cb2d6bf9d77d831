"""Both stores behave the same: sessions, the ordered log, snapshots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.store import MemoryStore, NewEntry, SessionRecord, Snapshot, SQLiteStore, Store


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    made: Store = (
        SQLiteStore(tmp_path / "s.sqlite3") if request.param == "sqlite" else MemoryStore()
    )
    yield made
    made.close()


def test_sessions_by_id_and_path(store: Store) -> None:
    record = SessionRecord("id1", "a/b.ipynb", "e" * 43, "v" * 43, 1.0)
    store.add_session(record)
    assert store.get_session("id1") == record
    assert store.session_for_path("a/b.ipynb") == record
    assert store.get_session("nope") is None and store.session_for_path("x.ipynb") is None
    assert store.sessions() == [record]


def test_log_keeps_order_kinds_and_rooms_apart(store: Store) -> None:
    last = store.append(
        "r1", [NewEntry(1.0, "update", "peer:1", b"a"), NewEntry(2.0, "event", "join", b"{}")]
    )
    store.append("r2", [NewEntry(1.5, "update", "peer:2", b"other")])
    store.append("r1", [NewEntry(3.0, "update", "kernel", b"b")])
    updates = store.entries("r1")
    assert [e.data for e in updates] == [b"a", b"b"] and updates[0].origin == "peer:1"
    assert [e.data for e in store.entries("r1", after_seq=last)] == [b"b"]
    assert [e.kind for e in store.entries("r1", kinds=("update", "event"))] == [
        "update",
        "event",
        "update",
    ]
    assert [e.data for e in store.entries("r1", until_ts=2.5)] == [b"a"]
    assert [e.data for e in store.entries("r1", from_ts=2.5)] == [b"b"]
    assert store.count("r1") == 2 and store.count("r2") == 1


def test_latest_snapshot_and_as_of_a_time(store: Store) -> None:
    assert store.latest_snapshot("r") is None
    store.add_snapshot("r", Snapshot(5, 10.0, b"s5"))
    store.add_snapshot("r", Snapshot(9, 20.0, b"s9"))
    assert store.latest_snapshot("r") == Snapshot(9, 20.0, b"s9")
    assert store.latest_snapshot("r", until_ts=15.0) == Snapshot(5, 10.0, b"s5")
    assert store.latest_snapshot("r", until_ts=5.0) is None


def test_sqlite_file_survives_reopening_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite3"
    first = SQLiteStore(path)
    first.append("r", [NewEntry(1.0, "update", "peer:1", b"kept")])
    first.close()
    again = SQLiteStore(path)
    assert [e.data for e in again.entries("r")] == [b"kept"]
    assert path.stat().st_mode & 0o077 == 0  # it holds the session tokens
    again.close()
