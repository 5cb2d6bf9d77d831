"""This hub as one node of a cluster: it claims rooms, keeps their leases, relays the others.

The hub asks `claim(room)` before loading a room: it either gets the lease's fencing token (this
hub is now the room's single writer and kernel keeper) or `OwnedElsewhere` naming the owner, to
which the websocket edge relays its participants and the HTTP edge forwards its requests.
While a room is loaded here, a keeper renews its lease; a lease that cannot be renewed (taken
over, or the database unreachable past the lease's life) ends the room here without writing.
A graceful stop releases every lease, so other hubs take the rooms over at once.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from collabd.background import spawn
from collabd.cluster.bus import Bus, room_stream
from collabd.cluster.edge import Edge
from collabd.cluster.lease import Lease, Leases
from collabd.cluster.owner import Outbox, OwnerRelay, Receivers
from collabd.sync.liveroom import LiveRoom

if TYPE_CHECKING:
    from collabd.store.postgres import PostgresStore

log = logging.getLogger("collabd.cluster")


class OwnedElsewhere(Exception):
    """Another hub owns the room; `lease` says which and where."""

    def __init__(self, lease: Lease | None) -> None:
        owner = lease.node if lease else "nobody (being taken over)"
        super().__init__(f"the room is owned by {owner}")
        self.lease = lease


@dataclass
class _Owned:
    token: int
    relay: OwnerRelay
    keeper: asyncio.Task[None]


class Cluster:
    def __init__(
        self,
        store: PostgresStore,
        redis_url: str,
        *,
        node_url: str,
        lease_ttl_s: float,
        node: str | None = None,
    ) -> None:
        self.node = node or uuid.uuid4().hex[:12]
        self.node_url = node_url
        self.ttl = lease_ttl_s
        self.leases = Leases(store.pool, self.node, node_url, lease_ttl_s)
        self.bus = Bus(redis_url)
        self.outbox = Outbox(self.bus)
        self.outbox.on_failed = self._lost_frames_to
        self.edge = Edge(self.bus, self.node, self.owner, check_every_s=lease_ttl_s / 3)
        self._owned: dict[str, _Owned] = {}
        self._stream_at: dict[str, bytes] = {}  # a claimed room's inbound stream end at the claim
        self._checks: list[asyncio.Task[None]] = []  # the heartbeat, and PostgreSQL's ping
        self.http = httpx.AsyncClient(timeout=60.0)  # requests forwarded to other hubs
        self.redis_error: str | None = None
        self.database_error: str | None = None

    async def start(self) -> None:
        await self.bus.heartbeat(self.node, int(self.ttl * 1000))
        self.outbox.start()
        await self.edge.start()
        self._checks = [
            asyncio.create_task(self._beat_forever(), name="cluster-heartbeat"),
            asyncio.create_task(self._ping_database_forever(), name="cluster-database-ping"),
        ]
        log.info("cluster node %s (%s), leases of %.1f s", self.node, self.node_url, self.ttl)

    async def stop(self) -> None:
        for task in self._checks:
            task.cancel()
        await asyncio.gather(*self._checks, return_exceptions=True)
        await self.edge.stop()
        await self.outbox.stop()
        await self.bus.close()
        await self.http.aclose()

    # ownership

    async def claim(self, room: str) -> int:
        # Where the room's inbound stream ends now: joins other hubs relay from the moment
        # the lease is ours, while the room loads, come after it and are read.
        self._stream_at[room] = await self.bus.last_id(room_stream(room))
        token = await asyncio.to_thread(self.leases.acquire, room)
        if token is None:
            self._stream_at.pop(room, None)
            raise OwnedElsewhere(await self.owner(room))
        log.info("room %s: this hub owns it now (token %d)", room, token)
        return token

    async def owner(self, room: str) -> Lease | None:
        return await asyncio.to_thread(self.leases.owner, room)

    async def attach(
        self,
        live: LiveRoom,
        token: int,
        next_peer_id: Callable[[], int],
        unload: Callable[[str], Awaitable[None]],
    ) -> None:
        """Start relaying a room this hub just loaded, and keep its lease."""
        relay = OwnerRelay(live, self.bus, self.outbox, next_peer_id)
        after = self._stream_at.pop(live.id, None) or await self.bus.last_id(room_stream(live.id))
        await relay.start(after)
        keeper = asyncio.create_task(self._keep(live, token), name=f"lease:{live.id}")
        self._owned[live.id] = _Owned(token, relay, keeper)
        live.on_fenced = lambda gone: spawn(unload(gone.id), f"unload:{gone.id}")

    async def detach(self, live: LiveRoom) -> None:
        """The room was unloaded here: stop relaying, and hand the lease back if still ours."""
        self._stream_at.pop(live.id, None)
        owned = self._owned.pop(live.id, None)
        if owned is None:
            return
        owned.keeper.cancel()
        await asyncio.gather(owned.keeper, return_exceptions=True)
        await owned.relay.stop()
        if not live.fenced_out:
            try:
                await asyncio.to_thread(self.leases.release, live.id, owned.token)
            except Exception:
                log.exception("room %s: releasing its lease failed (it will expire)", live.id)

    def _lost_frames_to(self, node: str, receivers: Receivers) -> None:
        for room, remotes in receivers.items():
            if (owned := self._owned.get(room)) is not None:
                owned.relay.drop_receivers(node, remotes)

    async def _keep(self, live: LiveRoom, token: int) -> None:
        renewed = time.monotonic()
        while not live.fenced_out:
            await asyncio.sleep(self.ttl / 3)
            try:
                ours = await asyncio.to_thread(self.leases.renew, live.id, token)
                self.database_error = None
            except Exception as exc:
                self.database_error = str(exc) or repr(exc)
                log.warning("room %s: renewing its lease failed: %s", live.id, exc)
                ours = time.monotonic() - renewed < self.ttl  # still ours until it lapses
            else:
                renewed = time.monotonic() if ours else renewed
            if not ours:
                log.warning("room %s: its lease is lost; stopping here", live.id)
                live.lose_ownership()

    async def _beat_forever(self) -> None:
        """Tell the others this hub lives (and find out whether Redis answers). A loop of its
        own: a PostgreSQL that is slow to answer must not let the heartbeat lapse, or owners
        elsewhere take this hub for dead and send its participants away."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.bus.heartbeat(self.node, int(self.ttl * 1000))
                self.redis_error = None
            except Exception as exc:
                self.redis_error = str(exc) or repr(exc)
                log.warning("cluster heartbeat to Redis failed: %s", exc)

    async def _ping_database_forever(self) -> None:
        """Find out whether PostgreSQL answers (for /api/health)."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await asyncio.to_thread(self.leases.ping)
                self.database_error = None
            except Exception as exc:
                self.database_error = str(exc) or repr(exc)
                log.warning("PostgreSQL does not answer: %s", exc)

    # what /api/health says

    def health(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "owned": sorted(self._owned),
            "relayed_connections": self.edge.relayed,
            "redis": self.redis_error or "ok",
            "database": self.database_error or "ok",
        }

    @property
    def healthy(self) -> bool:
        return self.redis_error is None and self.database_error is None
