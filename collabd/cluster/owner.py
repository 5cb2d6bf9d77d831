"""The owner's side of the relay: participants connected to other hubs, as peers of the room.

`OwnerRelay` reads the room's inbound stream in order (joins, frames, leaves from other hubs) and
hands them to the live room as if they came from local connections; each remote participant is
a `RemotePeer`, whose sends go back to its hub through the `Outbox`. A broadcast frame is one
bytes object for every receiver, so the outbox sends it once per hub with the list of that hub's
receivers, not once per participant.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collabd import metrics
from collabd.cluster.bus import Bus, Fields, OutFields, entry_age, node_stream, room_stream
from collabd.sync.liveroom import LiveRoom
from collabd.sync.room import Role
from collabd.sync.wire import Close

log = logging.getLogger("collabd.cluster")
READ_BLOCK_MS = 1000
NODE_CHECK_S = 5.0  # how often the hubs of remote participants are checked for being alive
STOP_WRITE_S = 5.0  # for the writes under way when the hub stops (the closes of a hand-over)


Receivers = dict[str, set[int]]  # room -> the ids (on their own hub) of participants there


@dataclass(frozen=True, slots=True)
class _Batch:
    """What one write sends to one hub's stream, and whom it was for."""

    node: str
    entries: list[OutFields]
    receivers: Receivers


class Outbox:
    """Frames and closes for participants on other hubs, written in order by one task."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus
        self._pending: dict[str, list[dict[str, Any]]] = {}
        # None: stop once what came before it is written
        self._queue: asyncio.Queue[_Batch | None] = asyncio.Queue()
        self._scheduled = False
        self._writer: asyncio.Task[None] | None = None
        # what was sent to these participants of `node` ({room: their ids there}) was lost
        self.on_failed: Callable[[str, Receivers], None] = lambda node, receivers: None

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_forever(), name="cluster-outbox")

    async def stop(self) -> None:
        """Write what is pending, including a batch the writer has already taken (the closes
        that send other hubs' participants elsewhere), for up to STOP_WRITE_S."""
        self._flush()
        writer = self._writer
        if writer is None or writer.done():
            return
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(writer), STOP_WRITE_S)
        except TimeoutError:
            left = sum(len(batch.entries) for batch in self._drain())
            log.warning(
                "relay writes still under way after %.0f s; %d more not sent", STOP_WRITE_S, left
            )
        finally:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def _drain(self) -> list[_Batch]:
        items = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is not None:
                items.append(item)
        return items

    def send(self, node: str, room: str, peer: int, data: bytes) -> None:
        entries = self._pending.setdefault(node, [])
        last = entries[-1] if entries else None
        if last is not None and last.get("data") is data and last["room"] == room:
            last["peers"].append(peer)  # the same broadcast frame: one entry for the hub
        else:
            entries.append({"room": room, "peers": [peer], "data": data})
        self._schedule()

    def close(self, node: str, room: str, peer: int, code: int, reason: str) -> None:
        entry = {"room": room, "peers": [peer], "code": int(code), "reason": reason}
        self._pending.setdefault(node, []).append(entry)
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._scheduled = False
        pending, self._pending = self._pending, {}
        for node, entries in pending.items():
            receivers: Receivers = {}
            for entry in entries:
                receivers.setdefault(entry["room"], set()).update(entry["peers"])
            self._queue.put_nowait(_Batch(node, [_encode_out(e) for e in entries], receivers))

    async def _write_forever(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                await self._bus.add_many(node_stream(item.node), item.entries)
            except Exception:
                log.exception(
                    "relay to hub %s failed: %d entries lost", item.node, len(item.entries)
                )
                self.on_failed(item.node, item.receivers)


def _encode_out(entry: dict[str, Any]) -> OutFields:
    peers = ",".join(str(p) for p in entry["peers"]).encode()
    if "data" in entry:
        return {b"t": b"f", b"r": entry["room"], b"p": peers, b"d": entry["data"]}
    return {
        b"t": b"c",
        b"r": entry["room"],
        b"p": peers,
        b"c": int(entry["code"]),  # an IntEnum would be stored as its repr
        b"m": entry["reason"].encode()[:120],
    }


class RemotePeer:
    """A participant connected to another hub; what the room sends it goes through the outbox."""

    def __init__(self, peer_id: int, node: str, remote: int, room: str, outbox: Outbox) -> None:
        self.id = peer_id
        self.node, self.remote, self.room = node, remote, room
        self._outbox = outbox
        self.closed = False

    def send(self, data: bytes) -> None:
        if not self.closed:
            self._outbox.send(self.node, self.room, self.remote, data)

    def close(self, code: int, reason: str) -> None:
        if not self.closed:
            self.closed = True
            self._outbox.close(self.node, self.room, self.remote, code, reason)


class OwnerRelay:
    """Reads one owned room's inbound stream and plays it into the live room."""

    def __init__(
        self, live: LiveRoom, bus: Bus, outbox: Outbox, next_peer_id: Callable[[], int]
    ) -> None:
        self.live = live
        self._bus, self._outbox, self._next_peer_id = bus, outbox, next_peer_id
        self._peers: dict[tuple[str, int], RemotePeer] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self, after: bytes) -> None:
        """Read what arrived after `after`: the stream's end when the room was claimed, so the
        joins relayed while it loaded are served (earlier entries were the previous owner's,
        whose participants have been told to reconnect)."""
        self._task = asyncio.create_task(self._run(after), name=f"relay:{self.live.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, after: bytes) -> None:
        stream = room_stream(self.live.id)
        checked = asyncio.get_running_loop().time()
        while True:
            try:
                for entry_id, fields in await self._bus.read(stream, after, READ_BLOCK_MS):
                    after = entry_id
                    metrics.RELAY_LAG_SECONDS.labels("to_owner").observe(entry_age(entry_id))
                    self._handle(fields)
                now = asyncio.get_running_loop().time()
                if now - checked > NODE_CHECK_S:
                    checked = now
                    await self._drop_dead_hubs()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception(
                    "room %s: reading the relay failed; going on from %r", self.live.id, after
                )
                await asyncio.sleep(0.5)

    def _handle(self, fields: Fields) -> None:
        kind = fields.get(b"t")
        key = (fields[b"n"].decode(), int(fields[b"p"]))
        if kind == b"j":
            peer = RemotePeer(self._next_peer_id(), key[0], key[1], self.live.id, self._outbox)
            self._peers[key] = peer
            role = Role(fields[b"r"].decode())
            user: dict[str, Any] = {"access": fields[b"a"].decode(), "via": key[0]}
            if b"k" in fields:  # joined with a named link: its presence carries the name
                user.update(link=fields[b"k"].decode(), link_name=fields[b"m"].decode())
            if b"u" in fields:  # a signed-in user: their presence carries their name
                groups = fields.get(b"g", b"").decode()
                user.update(user=fields[b"u"].decode(), groups=groups.split("\n") if groups else [])
            self.live.connect(peer, role, user)
        elif kind == b"f":
            found = self._peers.get(key)
            if found is None:  # joined a previous owner, or dropped here: it rejoins and resyncs
                reason = "the hub running this session changed: reconnecting"
                self._outbox.close(key[0], self.live.id, key[1], Close.MOVED, reason)
            elif not found.closed:
                self._receive(found, fields[b"d"])
        elif kind == b"l":
            gone = self._peers.pop(key, None)
            if gone is not None:
                gone.closed = True
                self.live.disconnect(gone.id)

    def _receive(self, peer: RemotePeer, frame: bytes) -> None:
        try:
            self.live.receive(peer.id, frame)
        except Exception:  # a bug of ours: this peer goes, the room carries on
            log.exception("room %s: remote peer %s: message not handled", self.live.id, peer.id)
            peer.close(Close.UNAVAILABLE, "internal error handling your message")

    async def _drop_dead_hubs(self) -> None:
        """Participants of a hub that died without saying goodbye leave the room."""
        for node in {node for node, _ in self._peers}:
            if not await self._bus.alive(node):
                log.warning("room %s: hub %s is gone; its participants leave", self.live.id, node)
                self.drop_node(node)

    def drop_node(self, node: str) -> None:
        """That hub's participants leave: it is gone, or stopped saying it lives."""
        self._drop([k for k in self._peers if k[0] == node], "its hub stopped answering")

    def drop_receivers(self, node: str, remotes: set[int]) -> None:
        """Those participants of `node` leave: what was sent to them was lost. Only they: a
        participant who joined since (after a Redis restart, say) has missed nothing."""
        self._drop([(node, r) for r in remotes if (node, r) in self._peers], "frames were lost")

    def _drop(self, keys: list[tuple[str, int]], why: str) -> None:
        """The participants leave the room and are told to reconnect (and resync through Yjs),
        through their hub if it still reads its stream: one left connected there, taken out of
        the room without a word, would never hear of the notebook again."""
        reason = f"the relay between hubs failed ({why}): reconnecting"
        for key in keys:
            peer = self._peers.pop(key)
            peer.close(Close.UNAVAILABLE, reason)
            self.live.disconnect(peer.id)
