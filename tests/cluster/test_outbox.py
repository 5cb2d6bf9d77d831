"""The relay's outbox, over a real Redis: a hub that stops writes what it was sending, the batch
its writer had already taken included (the closes that send other hubs' participants elsewhere
during a hand-over), and a Redis that never answers holds the stop for a bounded time only. A
write that fails says whom its entries were for, and the owner drops those participants only,
telling them to reconnect (one taken out of the room without a word would hear nothing more)."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from pycrdt import Doc

from collabd.cluster import owner
from collabd.cluster.bus import Bus, OutFields, node_stream, room_stream
from collabd.cluster.owner import Outbox, OwnerRelay, Receivers
from collabd.notebook import empty_notebook, load_into
from collabd.settings import Settings
from collabd.store.memory import MemoryStore
from collabd.sync.liveroom import LiveRoom
from tests.cluster.conftest import REDIS_URL
from tests.support.hubproc import free_port


class SlowBus(Bus):
    """A real bus whose writes take a while, as over a slow network: each starts, then waits."""

    def __init__(self, url: str, delay: float) -> None:
        super().__init__(url)
        self.delay = delay
        self.started = asyncio.Event()

    async def add_many(self, stream: str, entries: list[OutFields]) -> None:
        self.started.set()
        await asyncio.sleep(self.delay)
        await super().add_many(stream, entries)


async def _stream(node: str) -> list[dict[bytes, bytes]]:
    client = aioredis.from_url(REDIS_URL)
    try:
        return [fields for _, fields in await client.xrange(node_stream(node))]
    finally:
        await client.aclose()


async def test_a_stop_writes_the_batch_under_way_and_what_follows() -> None:
    node = f"test-{secrets.token_hex(4)}"
    bus = SlowBus(REDIS_URL, delay=0.3)
    outbox = Outbox(bus)
    outbox.start()
    try:
        outbox.send(node, "room", 1, b"first")
        await bus.started.wait()  # the writer took the first batch and is writing it
        outbox.close(node, "room", 1, 4001, "the session moved to another hub")
        await outbox.stop()
        written = await _stream(node)
        assert [f.get(b"d") or f.get(b"m") for f in written] == [
            b"first",
            b"the session moved to another hub",
        ]
    finally:
        await bus.close()


async def test_a_redis_that_does_not_answer_holds_a_stop_for_a_bounded_time(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(owner, "STOP_WRITE_S", 0.2)
    bus = SlowBus(REDIS_URL, delay=3600)
    outbox = Outbox(bus)
    outbox.start()
    try:
        outbox.send("nowhere", "room", 1, b"x")
        await bus.started.wait()
        outbox.send("nowhere", "room", 1, b"y")
        await asyncio.wait_for(outbox.stop(), 5)
        assert "1 more not sent" in caplog.text
    finally:
        await bus.close()


async def test_a_failed_write_says_whom_its_entries_were_for() -> None:
    bus = Bus(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    outbox = Outbox(bus)
    failed: list[tuple[str, Receivers]] = []
    outbox.on_failed = lambda node, receivers: failed.append((node, receivers))
    outbox.start()
    try:
        frame = b"one broadcast"
        outbox.send("hub-b", "room-1", 7, frame)
        outbox.send("hub-b", "room-1", 8, frame)
        outbox.close("hub-b", "room-2", 9, 4001, "moved")
        async with asyncio.timeout(20):
            while not failed:
                await asyncio.sleep(0.05)
        assert failed == [("hub-b", {"room-1": {7, 8}, "room-2": {9}})]
    finally:
        await outbox.stop()
        await bus.close()


async def test_lost_frames_drop_their_receivers_only_and_tell_them(tmp_path: Path) -> None:
    async def run_io(fn: Any, *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    room, node = f"room-{secrets.token_hex(4)}", f"test-{secrets.token_hex(4)}"
    doc: Doc[Any] = Doc()
    load_into(doc, empty_notebook())
    settings = Settings(token="t", root=tmp_path, data=tmp_path)
    live = LiveRoom(room, doc, store=MemoryStore(), settings=settings, run_io=run_io, last_seq=0)
    bus = Bus(REDIS_URL)
    outbox = Outbox(bus)
    outbox.start()
    ids = iter(range(1, 100))
    relay = OwnerRelay(live, bus, outbox, lambda: next(ids))
    try:
        await relay.start(await bus.last_id(room_stream(room)))
        for remote in (1, 2):  # two participants of the other hub join, as its edge sends them
            join = {b"t": b"j", b"n": node, b"p": remote, b"r": "edit", b"a": "edit"}
            await bus.add(room_stream(room), join)
        async with asyncio.timeout(10):
            while live.peer_count < 2:
                await asyncio.sleep(0.02)

        relay.drop_receivers(node, {1})  # what was sent to the first was lost
        assert live.peer_count == 1  # the second, who missed nothing, stays
        async with asyncio.timeout(10):  # and the first is told to reconnect, through its hub
            while not (closes := [f for f in await _stream(node) if f.get(b"t") == b"c"]):
                await asyncio.sleep(0.05)
        assert [(f[b"p"], int(f[b"c"])) for f in closes] == [(b"1", 1011)]
        assert b"reconnecting" in closes[0][b"m"]
    finally:
        await relay.stop()
        await outbox.stop()
        await bus.close()
