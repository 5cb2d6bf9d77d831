"""A hub's side of the relay for rooms another hub owns.

Each local participant of such a room is a `Relayed` connection: its join, frames and leave go to
the room's inbound stream, and this hub's outbound stream brings back what the owner sends it.
Everything this hub sends to owners goes through one ordered queue, written by one task: what
was queued while the previous write was in flight (at least one event-loop tick's worth) goes
out as one pipelined burst of XADDs, so the order of entries holds per connection and across
the connections of a room, and a hub relaying many frames pays one round trip per burst instead
of one per frame. A watcher per room checks the lease: when the owner changes or its
lease lapses (it died), the room's participants are closed with `Close.MOVED`; their clients
reconnect, the hub they reach claims the room, and their unsent edits merge through Yjs sync.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from collabd import metrics
from collabd.background import spawn
from collabd.cluster.bus import Bus, Fields, OutFields, entry_age, node_stream, room_stream
from collabd.cluster.lease import Lease
from collabd.sync.peer import Peer
from collabd.sync.wire import Close

log = logging.getLogger("collabd.cluster")
READ_BLOCK_MS = 1000
JOIN_ANSWER_S = 5.0
BACKLOG_BYTES = 4 * 1024 * 1024  # frames queued beyond this make the senders wait for a write
OwnerOf = Callable[[str], Awaitable[Lease | None]]


@dataclass(eq=False)
class Relayed:
    room: str
    peer: Peer
    lease: Lease  # the owner it was sent to
    answered: bool = False  # the owner has sent it something (its join was taken)


@dataclass
class _Room:
    conns: dict[int, Relayed] = field(default_factory=dict)
    watcher: asyncio.Task[None] | None = None


class Edge:
    def __init__(self, bus: Bus, node: str, owner_of: OwnerOf, check_every_s: float) -> None:
        self._bus, self.node = bus, node
        self._owner_of = owner_of
        self._check_every_s = check_every_s
        self._conns: dict[int, Relayed] = {}  # local peer id -> connection
        self._rooms: dict[str, _Room] = {}
        self._reader: asyncio.Task[None] | None = None
        # the send queue: (stream, fields, the connection whose frame it is), and the future
        # the next write resolves (with the error, if it failed)
        self._queue: list[tuple[str, OutFields, Relayed | None]] = []
        self._queued_bytes = 0
        self._written: asyncio.Future[BaseException | None] | None = None
        self._wakeup = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._stopped = False

    @property
    def relayed(self) -> int:
        return len(self._conns)

    async def start(self) -> None:
        after = await self._bus.last_id(node_stream(self.node))
        self._reader = asyncio.create_task(self._read_forever(after), name="cluster-edge")

    async def stop(self) -> None:
        self._stopped = True
        watchers = [r.watcher for r in self._rooms.values()]
        tasks = [t for t in [self._reader, self._writer, *watchers] if t]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._written is not None and not self._written.done():  # never to be written
            self._written.set_result(ConnectionAbortedError("this hub is stopping"))
        self.close_all()

    def close_all(self) -> None:
        """This hub is stopping: its relayed participants reconnect through another hub."""
        for conn in list(self._conns.values()):
            conn.peer.close(Close.GOING_AWAY, "this hub is stopping: reconnecting")

    # a local participant's life

    async def join(
        self,
        room: str,
        peer: Peer,
        role: str,
        access: str,
        lease: Lease,
        link: tuple[str, str] | None = None,
        user: tuple[str, tuple[str, ...]] | None = None,
    ) -> Relayed:
        """`link`: the named link's id and name the participant joined with, if it did;
        `user`: the signed-in user's name and groups, if they joined with no token."""
        conn = Relayed(room, peer, lease)
        self._conns[peer.id] = conn
        state = self._rooms.setdefault(room, _Room())
        state.conns[peer.id] = conn
        if state.watcher is None or state.watcher.done():
            state.watcher = asyncio.create_task(self._watch(room), name=f"edge:{room}")
        fields: OutFields = {b"t": b"j", b"n": self.node, b"p": peer.id, b"r": role, b"a": access}
        if link is not None:
            fields.update({b"k": link[0], b"m": link[1]})
        if user is not None:
            fields.update({b"u": user[0], b"g": "\n".join(user[1])})
        failed = await self._send(room_stream(room), fields, None)
        if failed is not None:
            raise failed
        spawn(self._expect_answer(conn), f"edge-join:{peer.id}")
        return conn

    async def _expect_answer(self, conn: Relayed) -> None:
        """An owner answers a join at once (its sync step 1); one that does not was stopping."""
        await asyncio.sleep(min(JOIN_ANSWER_S, self._check_every_s * 3))
        if not conn.answered and conn.peer.id in self._conns:
            conn.peer.close(Close.MOVED, "the hub running this session did not answer: moving")

    async def frame(self, conn: Relayed, data: bytes) -> None:
        """Queue a frame for the owner; waits only while the queue is over `BACKLOG_BYTES`. A
        frame that cannot be written closes its connection (its client resyncs elsewhere)."""
        fields: OutFields = {b"t": b"f", b"n": self.node, b"p": conn.peer.id, b"d": data}
        written = self._enqueue(room_stream(conn.room), fields, conn, len(data))
        if self._queued_bytes > BACKLOG_BYTES:
            await asyncio.shield(written)

    async def leave(self, conn: Relayed) -> None:
        self._conns.pop(conn.peer.id, None)
        state = self._rooms.get(conn.room)
        if state is not None:
            state.conns.pop(conn.peer.id, None)
        fields: OutFields = {b"t": b"l", b"n": self.node, b"p": conn.peer.id}
        if await self._send(room_stream(conn.room), fields, None) is not None:
            # the owner drops participants of unreachable hubs itself
            log.warning(
                "room %s: could not tell the owner that peer %s left", conn.room, conn.peer.id
            )

    # the send queue

    async def _send(
        self, stream: str, fields: OutFields, conn: Relayed | None
    ) -> BaseException | None:
        """Queue an entry and wait until it is written: None, or why it was not."""
        return await asyncio.shield(self._enqueue(stream, fields, conn, 0))

    def _enqueue(
        self, stream: str, fields: OutFields, conn: Relayed | None, size: int
    ) -> asyncio.Future[BaseException | None]:
        if self._stopped:
            done = asyncio.get_running_loop().create_future()
            done.set_result(ConnectionAbortedError("this hub is stopping"))
            return done
        self._queue.append((stream, fields, conn))
        self._queued_bytes += size
        if self._written is None:
            self._written = asyncio.get_running_loop().create_future()
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_forever(), name="cluster-edge-out")
        self._wakeup.set()
        return self._written

    async def _write_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            batch, self._queue, self._queued_bytes = self._queue, [], 0
            written, self._written = self._written, None
            if not batch or written is None:
                continue
            try:
                if len(batch) == 1:  # a pipeline of one costs more than the command
                    await self._bus.add(batch[0][0], batch[0][1])
                else:
                    await self._bus.add_each([(stream, fields) for stream, fields, _ in batch])
            except BaseException as exc:
                written.set_result(exc)
                if not isinstance(exc, Exception):  # cancelled: the hub is stopping
                    raise
                log.exception("relaying %d entries to owners failed", len(batch))
                for conn in {c for _, _, c in batch if c is not None}:
                    conn.peer.close(
                        Close.UNAVAILABLE, "the hub running this session is unreachable"
                    )
            else:
                written.set_result(None)

    # what owners send

    async def _read_forever(self, after: bytes) -> None:
        stream = node_stream(self.node)
        while True:
            try:
                for entry_id, fields in await self._bus.read(stream, after, READ_BLOCK_MS):
                    after = entry_id
                    metrics.RELAY_LAG_SECONDS.labels("from_owner").observe(entry_age(entry_id))
                    try:
                        self._deliver(fields)
                    except Exception:  # one bad entry: its receivers resync, nobody else
                        log.exception("a relay entry could not be delivered: %r", fields.keys())
                        self._drop_receivers(fields)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Whatever the owners sent meanwhile may be gone (a Redis restart empties the
                # streams): the participants reconnect and resync rather than miss it.
                log.exception("reading this hub's relay stream failed; its participants reconnect")
                for conn in list(self._conns.values()):
                    conn.peer.close(Close.UNAVAILABLE, "the relay between hubs failed: reconnect")
                await asyncio.sleep(0.5)

    def _drop_receivers(self, fields: Fields) -> None:
        for raw in fields.get(b"p", b"").split(b","):
            conn = self._conns.get(int(raw)) if raw.isdigit() else None
            if conn is not None:
                conn.peer.close(Close.UNAVAILABLE, "a relay message was damaged: reconnecting")

    def _deliver(self, fields: Fields) -> None:
        peers = [self._conns.get(int(p)) for p in fields[b"p"].split(b",")]
        if fields[b"t"] == b"f":
            data = fields[b"d"]
            for conn in peers:
                if conn is not None:
                    conn.answered = True
                    conn.peer.send(data)
        else:
            code, reason = int(fields[b"c"]), fields[b"m"].decode(errors="replace")
            for conn in peers:
                if conn is not None:
                    conn.peer.close(code, reason)

    # the owner's health

    async def _watch(self, room: str) -> None:
        state = self._rooms[room]
        while state.conns:
            await asyncio.sleep(self._check_every_s)
            try:
                lease = await self._owner_of(room)
            except Exception:
                log.exception("room %s: cannot read who owns it", room)
                continue
            for conn in list(state.conns.values()):
                if lease is None or not lease.live or lease.token != conn.lease.token:
                    conn.peer.close(Close.MOVED, "the hub running this session stopped: moving")
        self._rooms.pop(room, None)
