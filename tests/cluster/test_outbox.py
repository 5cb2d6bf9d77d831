"""The relay's outbox, over a real Redis: a hub that stops writes what it was sending, the batch
its writer had already taken included (the closes that send other hubs' participants elsewhere
during a hand-over), and a Redis that never answers holds the stop for a bounded time only."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import redis.asyncio as aioredis

from collabd.cluster import owner
from collabd.cluster.bus import Bus, OutFields, node_stream
from collabd.cluster.owner import Outbox
from tests.cluster.conftest import REDIS_URL


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
