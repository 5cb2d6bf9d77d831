"""The hub has its rooms' seek indexes built in the recording worker, a step at a time: every
room asked for is indexed to its end, in SQLite and PostgreSQL, a room that fails to index does
not stop the others, and nothing is built for a store the worker cannot open."""

from __future__ import annotations

import asyncio
import itertools
import logging
from pathlib import Path

import pytest

from collabd.recording import reader, seekindex
from collabd.recording.indexing import Indexing
from collabd.recording.offload import Rebuilds
from collabd.store import MemoryStore, PostgresStore, SessionRecord, SQLiteStore, Store
from collabd.store.base import UPDATE
from tests.recording.test_reader import ROOM, T0, Author
from tests.store.conftest import pg_url  # noqa: F401  (a fixture: a new PostgreSQL database)

OTHER = "r2"


def _recorded(store: Store, room: str, edits: int, seed: int) -> Author:
    store.add_session(SessionRecord(room, f"{room}.ipynb", "e" * 10, "v" * 10, T0))
    author = Author(store, seed=seed, room=room)
    for _ in range(edits):
        author.edit()
    return author


async def _until_indexed(indexing: Indexing, store: Store, rooms: list[str]) -> None:
    for _ in range(600):
        if not indexing.pending and all(_behind(store, r) == 0 for r in rooms):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not indexed: {[(r, _behind(store, r)) for r in rooms]}")


def _behind(store: Store, room: str) -> int:
    end = store.seek_index_end(room)
    return store.count(room, after_seq=end[0] if end else 0, kinds=(UPDATE,))


async def _index_two_rooms(store: Store) -> None:
    author = _recorded(store, ROOM, 60, seed=1)
    rebuilds = Rebuilds(store)
    indexing = Indexing(store, rebuilds)
    try:
        indexing.request(ROOM)
        indexing.request(ROOM)  # asked twice: done once
        await _until_indexed(indexing, store, [ROOM])
        for ts, expected in author.history[::5]:
            assert seekindex.notebook_at(store, ROOM, ts) == expected
            assert await rebuilds.run(reader.notebook_at, store, ROOM, ts) == expected
    finally:
        await indexing.close()
        await rebuilds.close()


async def test_rooms_are_indexed_in_the_worker_sqlite(tmp_path: Path) -> None:
    await _index_two_rooms(SQLiteStore(tmp_path / "collabd.db"))


async def test_rooms_are_indexed_in_the_worker_postgres(pg_url: str) -> None:  # noqa: F811
    store = PostgresStore(pg_url)
    try:
        await _index_two_rooms(store)
    finally:
        store.close()


async def test_long_rooms_take_turns_and_a_failing_room_stops_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store = SQLiteStore(tmp_path / "collabd.db")
    _recorded(store, ROOM, 80, seed=2)
    _recorded(store, OTHER, 80, seed=3)
    rebuilds = Rebuilds(store)
    indexing = Indexing(store, rebuilds)
    rooms_done: list[str] = []
    real_run = rebuilds.run

    async def run(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        if fn is seekindex.extend:
            rooms_done.append(args[1])
            if args[1] == "broken":
                raise RuntimeError("no such table, say")
            kwargs["step"] = 10  # small steps: the rooms must take turns
        return await real_run(fn, *args, **kwargs)

    monkeypatch.setattr(rebuilds, "run", run)
    try:
        with caplog.at_level(logging.ERROR, logger="collabd.recording"):
            indexing.request("broken")
            indexing.request(ROOM)
            indexing.request(OTHER)
            await _until_indexed(indexing, store, [ROOM, OTHER])
        assert "broken" in caplog.text
        turns = [r for r in rooms_done if r != "broken"]
        switches = sum(1 for a, b in itertools.pairwise(turns) if a != b)
        assert switches >= 4, turns  # neither room waited for the other to finish
    finally:
        await indexing.close()
        await rebuilds.close()
        store.close()


async def test_a_store_the_worker_cannot_open_is_not_indexed() -> None:
    store = MemoryStore()
    _recorded(store, ROOM, 10, seed=4)
    rebuilds = Rebuilds(store)
    indexing = Indexing(store, rebuilds)
    indexing.request(ROOM)  # building on the hub's own thread would hold up its rooms
    assert indexing.pending == []
    assert store.seek_index_end(ROOM) is None
    await indexing.close()
    await rebuilds.close()
