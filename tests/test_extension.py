"""The extension contract (collabd/extension.py), pure: a Hub on a MemoryStore, fake peers, no
sockets. What a failing hook may and may not break."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Text

from collabd.extension import Extension, Hooks, RoomLoad
from collabd.hub import Hub
from collabd.settings import Settings
from collabd.store import MemoryStore
from collabd.sync.liveroom import LiveRoom
from collabd.sync.room import PeerId, Publish, Role


class Boom(Exception):
    pass


class Recorder(Extension):
    """Records every hook; on load it starts a task of its own, which its unload cancels."""

    def __init__(self, name: str, calls: list[str], fail: tuple[str, ...] = ()) -> None:
        self.name, self.calls, self.fail = name, calls, set(fail)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.loads: list[RoomLoad] = []
        self.changes: list[list[Publish]] = []

    def __repr__(self) -> str:
        return f"<Recorder {self.name}>"

    def _hook(self, hook: str) -> None:
        self.calls.append(f"{self.name}.{hook}")
        if hook in self.fail:
            raise Boom(f"{self.name} failed in {hook}")

    async def on_load(self, load: RoomLoad) -> None:
        self.tasks[load.live.id] = asyncio.create_task(asyncio.sleep(3600))
        self.loads.append(load)
        self._hook("on_load")

    def on_change(self, live: LiveRoom, publishes: list[Publish]) -> None:
        self.changes.append(publishes)
        self._hook("on_change")

    def on_join(self, live: LiveRoom, peer: PeerId, role: Role) -> None:
        self._hook("on_join")

    def on_leave(self, live: LiveRoom, peer: PeerId) -> None:
        self._hook("on_leave")

    async def on_unload(self, live: LiveRoom) -> None:
        task = self.tasks.pop(live.id, None)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self._hook("on_unload")

    async def on_stop(self) -> None:
        self._hook("on_stop")


class Other(Extension):
    pass


class ClosingStore(MemoryStore):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def close(self) -> None:
        self.closed = True
        super().close()


class FakePeer:
    def __init__(self, peer_id: int) -> None:
        self.id = peer_id
        self.sent: list[bytes] = []
        self.closed: tuple[int, str] | None = None

    def send(self, data: bytes) -> None:
        self.sent.append(data)

    def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


@pytest.fixture
async def make_hub(tmp_path: Path) -> AsyncIterator[Any]:
    hubs: list[Hub] = []

    def make(*extensions: Extension, store: MemoryStore | None = None) -> Hub:
        settings = Settings(token="admin", root=tmp_path, data=tmp_path / "data")
        hub = Hub(settings, store if store is not None else MemoryStore(), extensions)
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        if not (isinstance(hub.store, ClosingStore) and hub.store.closed):
            await hub.stop()


def lifecycle(calls: list[str]) -> list[str]:
    """The load and unload calls (the import from disk is also an on_change, before on_load)."""
    return [c for c in calls if c.endswith(("on_load", "on_unload", "on_stop"))]


def new_tasks(before: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    return [
        t for t in asyncio.all_tasks() - before if not t.done() and t is not asyncio.current_task()
    ]


async def test_a_failing_on_load_fails_that_load_cleanly(
    make_hub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    first, second = Recorder("first", calls), Recorder("second", calls)
    failing, after = Recorder("failing", calls, ("on_load",)), Recorder("after", calls)
    hub: Hub = make_hub(first, second, failing, after)
    record, _ = await hub.create_session("nb.ipynb")
    before = asyncio.all_tasks()
    with caplog.at_level(logging.ERROR, "collabd.extension"), pytest.raises(Boom):
        await hub.room(record)
    # the ones loaded before it were unloaded, newest first; the failing one and those after
    # it were never loaded, so they are not unloaded either
    assert lifecycle(calls) == [
        "first.on_load", "second.on_load", "failing.on_load",
        "second.on_unload", "first.on_unload",
    ]  # fmt: skip
    assert first.tasks == second.tasks == {}
    failing.tasks.pop(record.id).cancel()  # the failing one's own: never unloaded, by the contract
    await asyncio.sleep(0)
    assert new_tasks(before) == [], "the room or an extension left a task running"
    # the room is not registered, and its LiveRoom was closed
    assert hub.loaded(record.id) is None and hub.room_count == 0
    assert first.loads[0].live.closed
    assert any(record.id in r.getMessage() and "failing" in r.getMessage() for r in caplog.records)
    # a later load can succeed
    failing.fail.clear()
    calls.clear()
    live = await hub.room(record)
    assert hub.loaded(record.id) is live and not live.closed
    assert lifecycle(calls) == [
        "first.on_load", "second.on_load", "failing.on_load", "after.on_load",
    ]  # fmt: skip


async def test_everyone_waiting_for_a_failing_load_gets_the_error(make_hub: Any) -> None:
    gate = asyncio.Event()

    class Slow(Extension):
        async def on_load(self, load: RoomLoad) -> None:
            await gate.wait()
            raise Boom("slow failure")

    hub: Hub = make_hub(Slow())
    record, _ = await hub.create_session("nb.ipynb")
    waiters = [asyncio.create_task(hub.room(record)) for _ in range(3)]
    await asyncio.sleep(0.01)
    gate.set()
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, Boom) for r in results), results
    assert hub.room_count == 0


async def test_a_failing_on_stop_still_closes_the_store(make_hub: Any) -> None:
    calls: list[str] = []
    store = ClosingStore()
    hub: Hub = make_hub(
        Recorder("a", calls, ("on_stop", "on_unload")), Recorder("b", calls), store=store
    )
    record, _ = await hub.create_session("nb.ipynb")
    live = await hub.room(record)
    await hub.stop()  # logs, does not raise
    assert lifecycle(calls)[-4:] == ["a.on_unload", "b.on_unload", "a.on_stop", "b.on_stop"]
    assert live.closed and hub.room_count == 0
    assert store.closed


async def test_change_join_and_leave_failures_are_logged_and_harm_no_one(
    make_hub: Any, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[str] = []
    bad = Recorder("bad", calls, ("on_change", "on_join", "on_leave"))
    good = Recorder("good", calls)
    hub: Hub = make_hub(bad, good)
    record, _ = await hub.create_session("nb.ipynb")
    live = await hub.room(record)
    one, two = FakePeer(1), FakePeer(2)
    with caplog.at_level(logging.ERROR, "collabd.extension"):
        live.connect(one, Role.EDIT)
        live.connect(two, Role.VIEW)
        sent_before = len(two.sent)
        live.change("test", lambda doc: doc.get("extra", type=Text).insert(0, "x"))
        await live.flush()
        live.disconnect(1)
    assert calls.count("good.on_join") == 2 and calls.count("good.on_leave") == 1
    assert good.changes and good.changes[-1][0].origin == "test"
    assert one.closed is None and two.closed is None  # nobody was thrown out
    assert len(two.sent) > sent_before  # the change still reached the other participant
    assert live.peer_count == 1 and not live.closed
    logged = [r.getMessage() for r in caplog.records]
    for hook in ("change", "join", "leave"):
        assert any(record.id in m and "bad" in m and hook in m for m in logged), (hook, logged)
    assert [e.origin for e in hub.store.entries(record.id)][-1] == "test"  # and it was stored


async def test_hub_extension_finds_the_extension_or_raises_lookup_error(make_hub: Any) -> None:
    calls: list[str] = []
    first, second = Recorder("first", calls), Recorder("second", calls)
    hub: Hub = make_hub(first, second)
    assert hub.extension(Recorder) is first  # the first of several
    assert hub.extension(Extension) is first
    with pytest.raises(LookupError, match="Other"):
        hub.extension(Other)
    other = Other()
    hub.hooks.add(other)
    assert hub.extension(Other) is other


def test_hooks_iterate_in_the_order_given() -> None:
    a, b = Other(), Other()
    hooks = Hooks([a])
    hooks.add(b)
    assert list(hooks) == [a, b]
