"""Recording reads that rebuild a document run in a worker process with its own store, and give
what the same read gives in the hub's process; a killed worker, a reader that leaves, an idle
worker and a stopping hub lose no answer and leave no process behind."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import psutil
import pytest

from collabd.recording import reader
from collabd.recording.offload import Rebuilds, WorkerGone
from collabd.store import MemoryStore, PostgresStore, SessionRecord, SQLiteStore, Store
from tests.recording.test_reader import ROOM, T0, Author
from tests.store.conftest import pg_url  # noqa: F401  (a fixture: a new PostgreSQL database)
from tests.support.procs import children_running


def recorded(store: Store, edits: int = 40) -> Author:
    store.add_session(SessionRecord(ROOM, "nb.ipynb", "e" * 10, "v" * 10, T0))
    author = Author(store, seed=5)
    for _ in range(edits):
        author.edit()
    return author


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is not a running worker
        return stat.read().split(") ", 1)[1][0] != "Z"


async def gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while alive(pid) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    return not alive(pid)


@pytest.fixture
def sqlite(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "collabd.db")


async def test_seeks_run_in_another_process_and_match(sqlite: SQLiteStore) -> None:
    author = recorded(sqlite)
    rebuilds = Rebuilds(sqlite)
    try:
        worker = await rebuilds.run(os.getpid)
        assert worker != os.getpid() and worker == rebuilds.pid
        for ts, expected in author.history[::4]:
            assert await rebuilds.run(reader.notebook_at, sqlite, ROOM, ts) == expected
        assert await rebuilds.run(reader.chat_at, sqlite, ROOM, ts) == []  # no chat here
        assert await rebuilds.run(os.getpid) == worker  # one worker, kept between reads
    finally:
        await rebuilds.close()
    assert await gone(worker)


async def test_the_worker_sees_what_was_written_after_it_started(sqlite: SQLiteStore) -> None:
    author = recorded(sqlite, edits=5)
    rebuilds = Rebuilds(sqlite)
    try:
        ts, expected = author.history[-1]
        assert await rebuilds.run(reader.notebook_at, sqlite, ROOM, ts) == expected
        for _ in range(5):
            author.edit()
        ts, expected = author.history[-1]
        assert await rebuilds.run(reader.notebook_at, sqlite, ROOM, ts) == expected
    finally:
        await rebuilds.close()


async def test_an_error_in_the_worker_reaches_the_caller(sqlite: SQLiteStore) -> None:
    recorded(sqlite, edits=2)
    rebuilds = Rebuilds(sqlite)
    try:
        with pytest.raises(reader.BeforeStart, match="before the recording starts"):
            await rebuilds.run(reader.notebook_at, sqlite, ROOM, T0 - 100)
        with pytest.raises(ValueError):  # the worker carries on after an error
            await rebuilds.run(int, "not a number")
        assert await rebuilds.run(len, "four") == 4
    finally:
        await rebuilds.close()


async def test_a_killed_worker_is_replaced_and_the_read_answered(sqlite: SQLiteStore) -> None:
    author = recorded(sqlite, edits=10)
    rebuilds = Rebuilds(sqlite)
    try:
        first = await rebuilds.run(os.getpid)
        os.kill(first, signal.SIGKILL)
        ts, expected = author.history[-1]
        assert await rebuilds.run(reader.notebook_at, sqlite, ROOM, ts) == expected
        second = rebuilds.pid
        assert second is not None and second != first
        # killed while it reads: that read is tried once more in a new worker
        slow = asyncio.ensure_future(rebuilds.run(time.sleep, 0.5))
        await asyncio.sleep(0.2)
        os.kill(second, signal.SIGKILL)
        await slow  # answered, by the new worker
        assert rebuilds.pid not in (None, first, second)
    finally:
        await rebuilds.close()


async def test_a_read_that_kills_its_worker_says_so_and_the_next_one_is_answered(
    sqlite: SQLiteStore,
) -> None:
    author = recorded(sqlite, edits=3)
    rebuilds = Rebuilds(sqlite)
    try:
        with pytest.raises(WorkerGone, match="ended before it answered"):
            await rebuilds.run(os._exit, 3)  # tried twice, in two workers: both end
        ts, expected = author.history[-1]
        assert await rebuilds.run(reader.notebook_at, sqlite, ROOM, ts) == expected
    finally:
        await rebuilds.close()


async def test_a_reader_that_goes_away_does_not_get_its_answer_to_the_next(
    sqlite: SQLiteStore,
) -> None:
    recorded(sqlite, edits=2)
    rebuilds = Rebuilds(sqlite)
    try:
        worker = await rebuilds.run(os.getpid)
        left = asyncio.ensure_future(rebuilds.run(time.sleep, 0.3))
        await asyncio.sleep(0.1)
        left.cancel()  # a closed tab: the worker still answers, and that answer is dropped
        assert await rebuilds.run(os.getpid) == worker
        assert await rebuilds.run(len, "abc") == 3
    finally:
        await rebuilds.close()


async def test_an_idle_worker_exits_and_a_later_read_starts_another(sqlite: SQLiteStore) -> None:
    author = recorded(sqlite, edits=3)
    rebuilds = Rebuilds(sqlite, idle_exit_s=0.2)
    try:
        first = await rebuilds.run(os.getpid)
        assert await gone(first)
        ts, expected = author.history[-1]
        assert await rebuilds.run(reader.notebook_at, sqlite, ROOM, ts) == expected
        assert rebuilds.pid not in (None, first)
    finally:
        await rebuilds.close()


async def test_warm_starts_the_worker_before_the_first_read(sqlite: SQLiteStore) -> None:
    rebuilds = Rebuilds(sqlite)
    try:
        rebuilds.warm()
        deadline = time.monotonic() + 15
        while rebuilds.pid is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        warmed = rebuilds.pid
        assert warmed is not None and await rebuilds.run(os.getpid) == warmed
    finally:
        await rebuilds.close()


def workers() -> list[psutil.Process]:
    return children_running(os.getpid(), "collabd.recording.offload", recursive=False)


async def test_a_worker_still_starting_when_the_hub_stops_does_not_outlive_it(
    sqlite: SQLiteStore,
) -> None:
    rebuilds = Rebuilds(sqlite)
    rebuilds.warm()
    await asyncio.sleep(0)  # the warm-up is starting its process
    await rebuilds.close()
    deadline = time.monotonic() + 15
    while workers() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert workers() == [] and rebuilds.pid is None


async def test_after_close_reads_run_on_a_thread(sqlite: SQLiteStore) -> None:
    rebuilds = Rebuilds(sqlite)
    worker = await rebuilds.run(os.getpid)
    await rebuilds.close()
    assert await gone(worker)
    assert await rebuilds.run(os.getpid) == os.getpid()


async def test_a_memory_store_is_read_on_a_thread() -> None:
    store = MemoryStore()
    author = recorded(store, edits=3)
    rebuilds = Rebuilds(store)
    assert not rebuilds.in_process
    assert await rebuilds.run(os.getpid) == os.getpid()
    ts, expected = author.history[-1]
    assert await rebuilds.run(reader.notebook_at, store, ROOM, ts) == expected
    await rebuilds.close()


async def test_a_postgres_store_is_reopened_in_the_worker(pg_url: str) -> None:  # noqa: F811
    store = PostgresStore(pg_url)
    try:
        author = recorded(store, edits=10)
        rebuilds = Rebuilds(store)
        try:
            assert await rebuilds.run(os.getpid) != os.getpid()
            for ts, expected in author.history[::3]:
                assert await rebuilds.run(reader.notebook_at, store, ROOM, ts) == expected
        finally:
            await rebuilds.close()
    finally:
        store.close()
