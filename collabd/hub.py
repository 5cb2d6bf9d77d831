"""The hub: sessions, and the rooms loaded for them (each exactly once).

Loading a room reads its newest snapshot and the log after it, never the .ipynb again: the
first load of a new session is the only import from disk. So a client that reconnects after a
restart, holding the old document, finds the same items and duplicates nothing.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from collabd import auth, linktokens, notebook, paths
from collabd.cluster.node import Cluster
from collabd.disk import ipynb, justopened
from collabd.extension import Extension, Hooks, RoomLoad
from collabd.iothread import IOThread
from collabd.recording.indexing import Indexing
from collabd.recording.offload import Rebuilds
from collabd.settings import Settings
from collabd.store import SessionRecord, Store
from collabd.store.replay import rebuild
from collabd.sync.liveroom import LiveRoom
from collabd.sync.wire import Close

log = logging.getLogger("collabd.hub")
T = TypeVar("T")
E = TypeVar("E", bound=Extension)


class NotANotebook(ValueError):
    """The file exists but is not a readable notebook."""


class SessionDeleted(LookupError):
    """The session was deleted (while a request about it was on its way)."""


class OpenedSession(NamedTuple):
    record: SessionRecord
    created: bool  # the session is new
    created_file: bool  # so is the file: there was none at the path


class Hub:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        extensions: Sequence[Extension] = (),
        cluster: Cluster | None = None,
    ) -> None:
        if not settings.token:
            raise ValueError("the admin token must be set")
        self.settings = settings
        self.admin_token: str = settings.token
        self.link_key = linktokens.load_key(settings)
        self.store = store
        self.hooks = Hooks(extensions)
        self.cluster = cluster  # None: this hub is the only one
        self.stopping = False  # handing over before the process stops: no new joins
        self._peer_ids = itertools.count(1)
        self._io = IOThread("collabd-store")
        self.rebuilds = Rebuilds(store)  # recording reads that rebuild a document
        self.indexing = Indexing(store, self.rebuilds)  # recordings' seek indexes, built there
        self._rooms: dict[str, LiveRoom] = {}
        self._sessions: dict[str, SessionRecord] = {}
        self._deleted: set[str] = set()  # sessions deleted by this hub: never looked up again
        self._just_opened = justopened.JustOpened()  # files read by a session's creation
        self._loading: dict[str, asyncio.Future[LiveRoom]] = {}
        self._create_lock = asyncio.Lock()
        self._janitor: asyncio.Task[None] | None = None

    # lifecycle

    async def start(self) -> None:
        if self.cluster is not None:
            await self.cluster.start()
        self._janitor = asyncio.create_task(self._unload_idle_forever(), name="janitor")

    async def hand_over(self) -> None:
        """Before the process goes (SIGTERM, SIGINT): every room is stored and unloaded — its
        kernel stopped, its lease released in a cluster — and every participant told to
        reconnect, while the server still runs; new joins are turned away meanwhile."""
        self.stopping = True
        for session_id in list(self._rooms):
            try:
                await self._unload(session_id)
            except Exception:
                log.exception("room %s: unloading it before the hub stops failed", session_id)
        if self.cluster is not None:
            self.cluster.edge.close_all()

    async def stop(self) -> None:
        if self._janitor:
            self._janitor.cancel()
            await asyncio.gather(self._janitor, return_exceptions=True)
        for session_id in list(self._rooms):
            await self._unload(session_id)
        try:
            await self.hooks.stop()
            if self.cluster is not None:
                await self.cluster.stop()
        finally:
            await self.indexing.close()
            await self.rebuilds.close()
            await self.run_io(self.store.close)
            self._io.shutdown()

    def extension(self, kind: type[E]) -> E:
        """This hub's extension of that type; LookupError if it has none."""
        return self.hooks.find(kind)

    async def run_io(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run blocking store or file work on the one I/O thread, in submission order."""
        return await self._io.call(functools.partial(fn, *args, **kwargs))

    def next_peer_id(self) -> int:
        """A connection's id in this hub's rooms, local or relayed from another hub."""
        return next(self._peer_ids)

    def rooms(self) -> list[LiveRoom]:
        return list(self._rooms.values())

    def health(self) -> dict[str, Any]:
        """What `/api/health` says of this hub; `ok` is False while a service it needs is down."""
        fields: dict[str, Any] = {"rooms": self.room_count}
        if self.cluster is not None:
            fields.update(self.cluster.health(), ok=self.cluster.healthy)
        if self.store_error is not None:
            fields.update(ok=False, store=self.store_error)
        return fields

    # sessions

    async def create_session(self, rel_path: object) -> tuple[SessionRecord, bool]:
        """The live session for a notebook path, created if there is none (and the file too)."""
        opened = await self.open_session(rel_path)
        return opened.record, opened.created

    async def open_session(self, rel_path: object) -> OpenedSession:
        """`create_session`, also saying whether the file was created."""
        rel, full = paths.normalize(self.settings.root, rel_path)
        async with self._create_lock:
            existing = await self.run_io(self.store.session_for_path, rel)
            if existing is not None:
                return OpenedSession(self._reveal(existing), False, False)
            new_file, stamp, opened = await self.run_io(_ensure_notebook_file, full)
            record = linktokens.new_session(auth.new_session_id(), rel, time.time())
            try:
                await self.run_io(self.store.add_session, record)
            except Exception:
                # Another hub of the cluster created a session for this path at the same moment.
                raced = await self.run_io(self.store.session_for_path, rel)
                if raced is None:
                    raise
                return OpenedSession(self._reveal(raced), False, new_file)
            record = self._reveal(record)
            # for the room's first load: the reading and, unless the room loads right away, its
            # import made in a thread while the page loads (a join that comes at once waits for
            # it, sharing the GIL with it: ~5 ms more per 1,000 cells than importing itself)
            update = None
            if not self.settings.kernel_start_with_session:
                update = asyncio.ensure_future(asyncio.to_thread(ipynb.import_update, opened))
                update.add_done_callback(_retrieved)  # a failed one is redone (and raises) at load
            self._just_opened.put(record.id, stamp, opened, update)
        log.info("session %s created for %s", record.id, rel)
        if self.settings.kernel_start_with_session:
            await self.room(record)
        return OpenedSession(record, True, new_file)

    async def session(self, session_id: str, *, fresh: bool = False) -> SessionRecord | None:
        """A record found is kept for later lookups: only this hub's `replace_token` and
        `delete_session` change it. `fresh` reads the store (another hub may have changed it)."""
        if session_id in self._deleted:
            return None
        record = None if fresh else self._sessions.get(session_id)
        if record is None:
            record = await self.run_io(self.store.get_session, session_id)
            if record is not None:
                record = self._reveal(record)
                self._sessions[session_id] = record
            else:
                self._sessions.pop(session_id, None)
        return record

    async def replace_token(self, record: SessionRecord, role: str) -> SessionRecord:
        """A new token for the session's anonymous `role` link (its next generation): the old
        one stops working."""
        changed = await self.run_io(self.store.next_generation, record.id, role)
        if changed is None:
            raise SessionDeleted(f"session {record.id} does not exist")
        changed = self._reveal(changed)
        self._sessions[record.id] = changed
        log.info("session %s: the anonymous %s link was replaced", record.id, role)
        return changed

    async def delete_session(self, record: SessionRecord) -> bool:
        """Delete the session: its participants are closed (4404), its room unloaded (the
        kernel stopped, the file saved), then its history and links removed from the store.
        The notebook file stays."""
        self._deleted.add(record.id)
        self._sessions.pop(record.id, None)
        pending = self._loading.get(record.id)
        if pending is not None:
            await asyncio.gather(asyncio.shield(pending), return_exceptions=True)
        live = self._rooms.get(record.id)
        if live is not None:
            live.close_peers(lambda _: True, Close.NOT_FOUND, "this session was deleted")
            await self._unload(record.id)
        found = await self.run_io(self.store.delete_session, record.id)
        log.info("session %s deleted (%s)", record.id, record.path)
        return found

    async def sessions(self) -> list[SessionRecord]:
        return [self._reveal(record) for record in await self.run_io(self.store.sessions)]

    def _reveal(self, record: SessionRecord) -> SessionRecord:
        """The record with its anonymous links' tokens (the store holds none since 0.3)."""
        return linktokens.reveal(record, self.link_key)

    def notebook_path(self, record: SessionRecord) -> Path:
        return paths.normalize(self.settings.root, record.path)[1]

    # rooms

    @property
    def room_count(self) -> int:
        return len(self._rooms)

    def loaded(self, session_id: str) -> LiveRoom | None:
        return self._rooms.get(session_id)

    @property
    def store_error(self) -> str | None:
        """Why writing to the store fails right now (rooms keep retrying), or None."""
        return next((r.store_error for r in self._rooms.values() if r.store_error), None)

    async def room(self, record: SessionRecord) -> LiveRoom:
        """The session's room, loading it if needed; concurrent callers share one load."""
        if record.id in self._deleted:
            raise SessionDeleted(f"session {record.id} was deleted")
        live = self._rooms.get(record.id)
        if live is not None:
            return live
        pending = self._loading.get(record.id)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._loading[record.id] = pending
            try:
                live = await self._load(record)
            except BaseException as exc:
                pending.set_exception(exc)
                pending.exception()  # retrieved here: each waiter gets it too
                raise
            finally:
                del self._loading[record.id]
            self._rooms[record.id] = live
            pending.set_result(live)
            return live
        return await asyncio.shield(pending)

    async def _load(self, record: SessionRecord) -> LiveRoom:
        started = time.perf_counter()
        # In a cluster the room is claimed first, so the log read below holds everything the
        # previous owner wrote: its token is stale from here on and the store refuses it.
        token = await self.cluster.claim(record.id) if self.cluster is not None else None
        try:
            live = await self._build(record, token)
        except BaseException:
            if self.cluster is not None and token is not None:
                await asyncio.to_thread(self.cluster.leases.release, record.id, token)
            raise
        log.info(
            "room %s loaded (%d log entries after the snapshot) in %.1f ms",
            record.id,
            live.loaded_tail,
            (time.perf_counter() - started) * 1000,
        )
        return live

    async def _build(self, record: SessionRecord, token: int | None) -> LiveRoom:
        kept = self._just_opened.take(record.id)  # once, used or not: a later load reads the file
        snapshot = await self.run_io(self.store.latest_snapshot, record.id)
        after = snapshot.seq if snapshot else 0
        tail = await self.run_io(self.store.entries, record.id, after_seq=after)
        # off the event loop: a long tail (up to `snapshot_every` updates) takes a while
        doc = await asyncio.to_thread(
            rebuild, snapshot.state if snapshot else None, [e.data for e in tail]
        )
        updates = snapshot is not None or bool(tail)
        live = LiveRoom(
            record.id,
            doc,
            store=self.store,
            settings=self.settings,
            run_io=self.run_io,
            last_seq=tail[-1].seq if tail else after,
            since_snapshot=len(tail),
            since_bytes=sum(len(e.data) for e in tail),
            snapshot_bytes=snapshot.size if snapshot else 0,
            fence=token,
        )
        live.on_snapshot = self._snapshot_stored
        live.start()
        try:
            if not updates:
                opened = await self.run_io(_read_notebook, self.notebook_path(record), kept)
                update = await _made_ahead(kept, opened)
                if update is not None:  # one update made while the page loaded
                    live.change("import", lambda d: d.apply_update(update))
                else:
                    live.change("import", lambda d: ipynb.import_into(d, opened))
                if opened.repairs:
                    live.record_event("notebook_repaired", {"repairs": opened.repairs})
                await live.flush()
            last_change = tail[-1].ts if tail else (snapshot.ts if snapshot else 0.0)
            await self.hooks.load(RoomLoad(live, record, not updates, last_change))
            live.observer = self.hooks  # from here on: the import and the loads' own edits
            # are the state the extensions start from, not changes to react to
            if self.cluster is not None and token is not None:
                await self.cluster.attach(live, token, self.next_peer_id, self._unload)
        except BaseException:
            await live.close()
            raise
        return live

    def _snapshot_stored(self, live: LiveRoom) -> None:
        # While someone reads recordings (the worker runs), keep the room's seek index up to
        # date; else a live session costs nothing more, and its index is built when it unloads
        # or when its recording is opened.
        if self.rebuilds.pid is not None:
            self.indexing.request(live.id)

    async def _unload(self, session_id: str) -> None:
        live = self._rooms.pop(session_id, None)
        if live is None:
            return
        try:
            await self.hooks.unload(live)
        finally:
            if self.cluster is not None:
                # The lease goes back before the peers are told to go, so the hub they
                # reconnect to can take the room at once (what arrives meanwhile is refused
                # by the fence; its senders resend it to the new owner).
                await live.flush()
                await self.cluster.detach(live)
            await live.close()
        if not self.stopping and session_id not in self._deleted:
            self.indexing.request(session_id)  # the session's last stretch, now it rests
        log.info("room %s unloaded", session_id)

    async def _unload_idle_forever(self) -> None:
        while True:
            await asyncio.sleep(min(5.0, self.settings.room_idle_unload_s))
            now = time.monotonic()
            for session_id, live in list(self._rooms.items()):
                idle = live.idle_since is not None and (
                    now - live.idle_since >= self.settings.room_idle_unload_s
                )
                if idle and not self.hooks.busy(live):
                    try:
                        await self._unload(session_id)
                    except Exception:
                        log.exception("room %s: unloading the idle room failed", session_id)


def _ensure_notebook_file(full: Path) -> tuple[bool, justopened.Stamp | None, ipynb.Opened]:
    """Whether the file had to be created (an empty notebook), and the file as read then."""
    if full.exists():
        stamp = justopened.stamp_of(full)  # before reading: a change meanwhile shows later
        return False, stamp, _read_notebook(full)
    if not full.parent.is_dir():
        raise NotANotebook(f"folder {full.parent.name!r} does not exist")
    tmp = full.with_name(f".{full.name}.collabd-new")
    tmp.write_text(notebook.to_text(notebook.empty_notebook()), encoding="utf-8")
    tmp.replace(full)
    return True, justopened.stamp_of(full), _read_notebook(full)


def _read_notebook(full: Path, kept: justopened.Kept | None = None) -> ipynb.Opened:
    """The file opened as Jupyter opens it (repairs said), or why it cannot be; `kept`: what
    creating the session read, used if the file is unchanged since."""
    if (opened := justopened.still(full, kept)) is not None:
        return opened
    try:
        return ipynb.read(full.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ipynb.Opened(notebook.empty_notebook(), ipynb.FileFormat(), [])
    except (ipynb.Unreadable, UnicodeDecodeError, OSError) as exc:
        raise NotANotebook(f"{full.name} cannot be opened: {exc}") from exc


async def _made_ahead(kept: justopened.Kept | None, opened: ipynb.Opened) -> bytes | None:
    """The import made when the session was created, if it is of the file the load opened."""
    if kept is None or kept.update is None or kept.opened is not opened:
        return None
    try:
        return await kept.update
    except Exception:
        log.exception("the import made ahead failed; importing the notebook now")
        return None


def _retrieved(update: asyncio.Future[bytes]) -> None:
    # an import made ahead and never loaded (the session joined on another hub) must not leave
    # "exception was never retrieved" behind
    if not update.cancelled():
        update.exception()
