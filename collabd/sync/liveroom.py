"""A loaded room with its connected peers: carries out what the pure Room decides.

Order of work for every batch of actions: append the batch's updates (and presence, when
recording) to the store in one transaction (on the event loop when the store can do that without
waiting, `Store.append_now`; else on the hub's I/O thread), then send. Updates that arrive
while a write is in flight wait for the next batch, so under load each write covers many updates
(group commit) and each fan-out merges them into one frame (encoded once, the same bytes for
every receiver).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pycrdt import Doc, merge_updates

from collabd import metrics
from collabd.settings import Settings
from collabd.store import NewEntry, Snapshot, Store
from collabd.store.base import AWARENESS, EVENT, UPDATE, Fenced
from collabd.store.cadence import SnapshotCadence
from collabd.sync import protocol, requests
from collabd.sync.peer import Peer
from collabd.sync.room import (
    Action,
    Close,
    PeerId,
    PresenceLimits,
    Publish,
    Relay,
    Reply,
    Request,
    Role,
    Room,
)
from collabd.sync.wire import Close as CloseCode

log = logging.getLogger("collabd.sync.room")

RunIO = Callable[..., Awaitable[Any]]


@dataclass(slots=True)
class _Batch:
    """What one flush stores and then sends, as taken from the outbox."""

    actions: list[Action]
    entries: list[NewEntry]  # appended: the events, then the actions' updates and presence
    updates: int
    nbytes: int
    since: float  # when its oldest action arrived
    snapshot: bytes | None  # the state after it, when a snapshot is due with it


class RoomObserver(Protocol):
    """Told of what happens in a room (the hub's extension hooks: `collabd.extension.Hooks`)."""

    def change(self, live: LiveRoom, publishes: list[Publish]) -> None: ...

    def join(self, live: LiveRoom, peer: PeerId, role: Role) -> None: ...

    def leave(self, live: LiveRoom, peer: PeerId) -> None: ...


class LiveRoom:
    def __init__(
        self,
        session_id: str,
        doc: Doc[Any],
        *,
        store: Store,
        settings: Settings,
        run_io: RunIO,
        last_seq: int,
        since_snapshot: int = 0,
        since_bytes: int = 0,
        snapshot_bytes: int = 0,
        observer: RoomObserver | None = None,
        fence: int | None = None,
    ) -> None:
        self.id = session_id
        limits = PresenceLimits(settings.max_presence_ids, settings.max_presence_bytes)
        self.room = Room(doc, limits)
        self.settings = settings
        self._store = store
        self._run_io = run_io
        self._peers: dict[PeerId, Peer] = {}
        self._joined: dict[PeerId, dict[str, Any]] = {}  # how each peer joined (access, link)
        self._seats: dict[PeerId, Role] = {}  # each peer's role, for the per-role limits
        self._counts: dict[Role, int] = dict.fromkeys(Role, 0)
        self._outbox: list[Action] = []
        self._events: list[NewEntry] = []
        self._wakeup = asyncio.Event()
        self._flush_lock = asyncio.Lock()  # batches are stored and sent one after another
        self._flusher: asyncio.Task[None] | None = None
        self._soon: asyncio.Handle | None = None  # a flush in the loop's next pass (`_wake`)
        self._carried: _Batch | None = None  # taken but not stored yet: the flush task's first
        self._last_seq = last_seq
        self._cadence = SnapshotCadence(
            settings.snapshot_every,
            since_snapshot,
            since_bytes=since_bytes,
            snapshot_bytes=snapshot_bytes,
        )
        # an origin whose presence was recorded less than an interval ago: the timer that ends
        # its interval, and the latest state that came meanwhile (written when it ends); none
        # is held for an origin outside its interval (an idle connection holds nothing here)
        self._presence_pending: dict[str, NewEntry] = {}
        self._presence_timers: dict[str, asyncio.TimerHandle] = {}
        self.observer = observer  # told of changes, joins and leaves (set once loaded)
        self._outbox_since = 0.0  # when the oldest action waiting in the outbox arrived
        self.fence = fence  # this hub's lease token, in a cluster: every write carries it
        self.fenced_out = False  # another hub owns the room now: nothing more is written
        self.on_fenced: Callable[[LiveRoom], None] | None = None
        self.on_snapshot: Callable[[LiveRoom], None] | None = None  # one is stored
        self.loaded_tail = since_snapshot  # log entries replayed on top of the snapshot at load
        self.store_error: str | None = None  # why the last append failed, while it keeps failing
        self.idle_since: float | None = time.monotonic()
        self.closed = False
        # collabd's requests over the websocket, by op (extensions add theirs as the room loads)
        self.requests: dict[str, requests.Handler] = {}

    @property
    def doc(self) -> Doc[Any]:
        return self.room.doc

    @property
    def peer_count(self) -> int:
        return len(self._peers)

    def seats_taken(self, role: Role) -> int:
        """Peers connected with `role` (edit or view links: `Settings.seat_limit`)."""
        return self._counts[role]

    def start(self) -> None:
        self._flusher = asyncio.create_task(self._flush_forever(), name=f"flush:{self.id}")

    async def close(self) -> None:
        """Write what is pending and stop; peers are closed with 1001 (going away)."""
        self.closed = True
        for peer in list(self._peers.values()):
            peer.close(CloseCode.GOING_AWAY, "the hub is shutting down")
        for origin in list(self._presence_timers):
            self._presence_timers.pop(origin).cancel()
            self._presence_due(origin, again=False)
        await self.flush()
        if self._flusher:
            self._flusher.cancel()
            await asyncio.gather(self._flusher, return_exceptions=True)

    # peers

    def connect(self, peer: Peer, role: Role, user: dict[str, Any] | None = None) -> None:
        """`user`: how the peer joined, recorded with its join (`access`; `link` and
        `link_name` for a named link, `user` (and `groups`) for a signed-in user: the name its
        presence then carries)."""
        if self.fenced_out:
            peer.close(CloseCode.MOVED, "the session moved to another hub: reconnecting")
            return
        self._peers[peer.id] = peer
        self._joined[peer.id] = dict(user or {})
        self._seats[peer.id] = role
        self._counts[role] += 1
        self.idle_since = None
        self.record_event("join", {"peer": peer.id, "role": str(role), **(user or {})})
        name = (user or {}).get("link_name") or (user or {}).get("user")
        self.dispatch(self.room.join(peer.id, role, name if isinstance(name, str) else None))
        if self.observer is not None:
            self.observer.join(self, peer.id, role)

    def disconnect(self, peer_id: PeerId) -> None:
        self._joined.pop(peer_id, None)
        if self._peers.pop(peer_id, None) is None:
            return
        self._counts[self._seats.pop(peer_id)] -= 1
        self.record_event("leave", {"peer": peer_id})
        self.dispatch(self.room.leave(peer_id))
        if self.observer is not None:
            self.observer.leave(self, peer_id)
        if not self._peers:
            self.idle_since = time.monotonic()

    def joined(self, peer_id: PeerId) -> dict[str, Any]:
        """How a connected peer joined (`connect`'s `user`); empty for one that is not here."""
        return dict(self._joined.get(peer_id, {}))

    def close_peers(
        self, joined_with: Callable[[dict[str, Any]], bool], code: int, reason: str
    ) -> int:
        """Close every peer whose join (`connect`'s `user`) matches; how many there were."""
        found = [pid for pid, user in self._joined.items() if joined_with(user)]
        for peer_id in found:
            peer = self._peers.get(peer_id)
            if peer is not None:
                peer.close(code, reason)
        return len(found)

    def receive(self, peer_id: PeerId, frame: bytes) -> None:
        self.dispatch(self.room.receive(peer_id, frame))

    # the hub's own changes

    def change(self, origin: str, edit: Callable[[Doc[Any]], None]) -> None:
        """Edit the document as the hub (kernel output, a merge from disk) and publish it."""
        self.dispatch(self.room.change(origin, edit))

    def record_event(self, kind: str, data: dict[str, Any]) -> None:
        """Add a non-document event (join, leave, run, kernel state) to the recording."""
        if not self.settings.record:
            return
        payload = json.dumps({"type": kind, **data}, separators=(",", ":")).encode()
        self._events.append(NewEntry(time.time(), EVENT, kind, payload))
        self._wake()

    # carrying out

    def dispatch(self, actions: list[Action]) -> None:
        if self.fenced_out:  # the new owner has the document; senders resend to it
            return
        for action in actions:
            if isinstance(action, Request):
                # answered in the outbox's order: after what came before it and what the
                # request itself changed (a run's place in the queue)
                joined = self._joined.get(action.peer, {})
                body = requests.handle(self.requests, action.peer, action.role, joined, action.body)
                action = Reply(action.peer, protocol.request(body))
            if isinstance(action, Close):
                log.warning("room %s: closing peer %s: %s", self.id, action.peer, action.reason)
                peer = self._peers.get(action.peer)
                if peer is not None:
                    peer.close(action.code, action.reason[:120])
            else:
                if not self._outbox:
                    self._outbox_since = time.perf_counter()
                self._outbox.append(action)
        if self._outbox:
            self._wake()

    def _wake(self) -> None:
        if self._soon is not None:
            return  # the flush already scheduled takes this too
        if self._flusher is not None and not self.closed and not self.settings.merge_window_s:
            # the loop's next pass, after every frame this one read: a plain callback, not
            # the flush task's Event, lock and coroutines (~30 µs of each edit's way, cold)
            self._soon = asyncio.get_running_loop().call_soon(self._flush_soon)
        else:
            self._wakeup.set()

    def _flush_soon(self) -> None:
        self._soon = None
        if not self._flush_inline():
            self._wakeup.set()

    def _flush_inline(self) -> bool:
        """Store and send what is pending in this callback, when the store can append at
        once. False leaves it to the flush task: a flush under way, a snapshot due with this
        batch, a store that is busy or failing (a batch already taken is handed over as
        `_carried`, never taken twice)."""
        if self._flush_lock.locked() or self._carried is not None or self.store_error:
            return False
        if self.fenced_out or not (self._outbox or self._events):
            return True
        batch = self._take()
        if batch.snapshot is not None:
            self._carried = batch
            return False
        if batch.entries:
            started = time.perf_counter()
            try:
                seq = self._store.append_now(self.id, batch.entries, fence=self.fence)
            except Fenced:
                self.lose_ownership()
                return True
            except Exception:  # the flush task tries again, and reports what fails
                seq = None
            if seq is None:
                self._carried = batch
                return False
            self._stored(seq, started)
        self._sent(batch)
        return True

    async def flush(self) -> None:
        """Store and send everything pending now."""
        while self._outbox or self._events or self._carried is not None:
            await self._flush_once()

    async def _flush_forever(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self.settings.merge_window_s:
                await asyncio.sleep(self.settings.merge_window_s)
            was_failing = self.store_error is not None
            try:
                await self._flush_once()
            except Exception as exc:
                if not was_failing:  # once per outage, not every retry
                    log.exception("room %s: flush failed (%s); retrying", self.id, exc)
                await asyncio.sleep(0.5)
                self._wake()
            else:
                if was_failing and self.store_error is None:
                    log.warning("room %s: the store accepts writes again", self.id)

    async def _flush_once(self) -> None:
        async with self._flush_lock:
            await self._flush_batch()

    def _take(self) -> _Batch:
        actions, self._outbox = self._outbox, []
        events, self._events = self._events, []
        published = [a.update for a in actions if isinstance(a, Publish)]
        updates, nbytes = len(published), sum(map(len, published))
        # exactly the state after this batch: every update in the outbox is applied, no other
        snapshot = self.doc.get_update() if self._cadence.due(updates, nbytes) else None
        entries = events + self._entries_for(actions)
        return _Batch(actions, entries, updates, nbytes, self._outbox_since, snapshot)

    async def _flush_batch(self) -> None:
        batch, self._carried = self._carried, None
        if batch is None:
            batch = self._take()
        if batch.entries:
            try:
                started = time.perf_counter()
                # on the loop when the store can do it without waiting: no thread hops
                seq = self._store.append_now(self.id, batch.entries, fence=self.fence)
                if seq is None:
                    # one loop pass first: work that became ready with this wake-up (the code
                    # of a run on its way to the kernel) goes ahead of the store thread, which
                    # holds the GIL while that work would wait
                    await asyncio.sleep(0)
                    seq = await self._run_io(
                        self._store.append, self.id, batch.entries, fence=self.fence
                    )
                self._stored(seq, started)
            except Fenced:
                self.lose_ownership()
                return
            except BaseException as exc:
                self._carried = batch  # tried again first, as taken; nothing was sent
                if isinstance(exc, Exception):  # the hub tells newcomers and /api/health
                    self.store_error = str(exc) or type(exc).__name__
                raise
            self.store_error = None
        self._sent(batch)
        if batch.snapshot is not None:
            await self._snapshot(batch.snapshot)

    def _stored(self, seq: int, started: float) -> None:
        self._last_seq = seq
        metrics.STORE_WRITE_SECONDS.observe(time.perf_counter() - started)

    def _sent(self, batch: _Batch) -> None:
        """Send a batch that is stored."""
        self._cadence.logged(batch.updates, batch.nbytes)
        self._send(batch.actions)
        if batch.updates:
            metrics.FANOUT_SECONDS.observe(time.perf_counter() - batch.since)

    async def _snapshot(self, state: bytes) -> None:
        """Snapshots only speed up loading and seeking: a failed one is logged, not fatal."""
        snapshot = Snapshot(self._last_seq, time.time(), state)
        try:
            stored = await self._run_io(
                self._store.add_snapshot, self.id, snapshot, fence=self.fence
            )
        except Fenced:
            self.lose_ownership()
            return
        except Exception:
            log.exception("room %s: snapshot at seq %s failed", self.id, snapshot.seq)
            return
        self._cadence.taken(stored if isinstance(stored, int) else len(state))
        if self.on_snapshot is not None:
            self.on_snapshot(self)

    def lose_ownership(self) -> None:
        """Another hub took the room over: what was not stored is not sent (its senders still
        hold it and resend it to the new owner when they reconnect), and nothing more is
        written here."""
        if self.fenced_out:
            return
        log.warning("room %s: another hub owns this room now; handing its peers over", self.id)
        self.fenced_out = True
        self._outbox.clear()
        self._events.clear()
        self._carried = None
        for peer in list(self._peers.values()):
            peer.close(CloseCode.MOVED, "the session moved to another hub: reconnecting")
        if self.on_fenced is not None:
            self.on_fenced(self)

    def _entries_for(self, batch: list[Action]) -> list[NewEntry]:
        now = time.time()
        entries = []
        for action in batch:
            if isinstance(action, Publish):
                entries.append(NewEntry(now, UPDATE, action.origin, action.update))
                metrics.update_in(action.origin)
            elif isinstance(action, Relay) and self.settings.record:
                entry = self._record_presence(action.origin, action.awareness_update, now)
                if entry is not None:
                    entries.append(entry)
        return entries

    def _record_presence(self, origin: str, update: bytes, now: float) -> NewEntry | None:
        """Presence is recorded at most once per interval per origin; the latest state of a
        burst is kept and written when the interval ends, so the recording ends where the
        participant's cursor really stopped."""
        entry = NewEntry(now, AWARENESS, origin, update)
        if origin in self._presence_timers:  # within its interval: the interval's end writes it
            self._presence_pending[origin] = entry
            return None
        self._start_interval(origin)
        return entry

    def _start_interval(self, origin: str) -> None:
        loop = asyncio.get_running_loop()
        interval = self.settings.record_presence_interval_s
        self._presence_timers[origin] = loop.call_later(interval, self._presence_due, origin)

    def _presence_due(self, origin: str, again: bool = True) -> None:
        """The origin's interval ended: write the state that came meanwhile, if any, which
        starts another interval."""
        self._presence_timers.pop(origin, None)
        entry = self._presence_pending.pop(origin, None)
        if entry is not None:
            self._events.append(entry)
            self._wake()
            if again and not self.closed:
                self._start_interval(origin)

    def _send(self, batch: list[Action]) -> None:
        pending: list[Publish] = []
        for action in batch:
            if isinstance(action, Publish):
                pending.append(action)
                continue
            self._fan_out(pending)
            pending = []
            if isinstance(action, Reply):
                peer = self._peers.get(action.peer)
                if peer is not None:
                    peer.send(action.data)
            elif isinstance(action, Relay):
                self._broadcast(action.frame, action.sender)
        self._fan_out(pending)

    def _fan_out(self, publishes: list[Publish]) -> None:
        if not publishes:
            return
        if len(publishes) == 1:
            update, sender = publishes[0].update, publishes[0].sender
        else:
            update = merge_updates(*(p.update for p in publishes))
            senders = {p.sender for p in publishes}
            sender = senders.pop() if len(senders) == 1 else None
        self._broadcast(protocol.update(update), sender)
        if self.observer is not None:
            self.observer.change(self, publishes)

    def _broadcast(self, frame: bytes, exclude: PeerId | None) -> None:
        sent = 0
        # the ids, not items(): a (id, peer) pair per peer would be made for every broadcast
        for peer_id in list(self._peers):
            peer = self._peers.get(peer_id)
            if peer_id != exclude and peer is not None:
                peer.send(frame)
                sent += 1
        metrics.FRAMES_OUT.inc(sent)
