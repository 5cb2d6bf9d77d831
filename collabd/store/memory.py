"""An in-memory store, for unit tests of the logic above it."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterable, Sequence

from .base import (
    UPDATE,
    EntryInfo,
    GrantRecord,
    LinkRecord,
    LogEntry,
    NewEntry,
    SeekBlock,
    SessionRecord,
    Snapshot,
    Store,
    generation_column,
    token_column,
)


class MemoryStore(Store):
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sessions: dict[str, SessionRecord] = {}
        self._log: dict[str, list[LogEntry]] = {}
        self._snapshots: dict[str, list[Snapshot]] = {}
        self._seek_index: dict[str, list[SeekBlock]] = {}
        self._links: dict[str, LinkRecord] = {}
        self._grants: dict[tuple[str, str, str], GrantRecord] = {}
        self._seq = 0

    def add_session(self, record: SessionRecord) -> None:
        with self._lock:
            # Refused like the databases' unique keys refuse it: one session per id and per path.
            if record.id in self._sessions or self.session_for_path(record.path) is not None:
                raise ValueError(f"a session with id {record.id} or path {record.path} exists")
            self._sessions[record.id] = record

    def get_session(self, session_id: str) -> SessionRecord | None:
        return self._sessions.get(session_id)

    def session_for_path(self, path: str) -> SessionRecord | None:
        return next((s for s in self._sessions.values() if s.path == path), None)

    def sessions(self) -> list[SessionRecord]:
        return sorted(self._sessions.values(), key=lambda s: s.created)

    def append(self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None) -> int:
        with self._lock:
            log = self._log.setdefault(room, [])
            for entry in entries:
                self._seq += 1
                log.append(LogEntry(self._seq, entry.ts, entry.kind, entry.origin, entry.data))
            return self._seq

    def entries(
        self,
        room: str,
        *,
        after_seq: int = 0,
        kinds: Iterable[str] = (UPDATE,),
        until_ts: float | None = None,
        from_ts: float | None = None,
        limit: int | None = None,
    ) -> list[LogEntry]:
        wanted = set(kinds)
        found = [
            e
            for e in self._log.get(room, [])
            if e.seq > after_seq
            and e.kind in wanted
            and (until_ts is None or e.ts <= until_ts)
            and (from_ts is None or e.ts >= from_ts)
        ]
        return found[:limit] if limit is not None else found

    def count(self, room: str, *, after_seq: int = 0, kinds: Iterable[str] = (UPDATE,)) -> int:
        return len(self.entries(room, after_seq=after_seq, kinds=kinds))

    def add_snapshot(self, room: str, snapshot: Snapshot, *, fence: int | None = None) -> int:
        snapshot = Snapshot(snapshot.seq, snapshot.ts, snapshot.state, len(snapshot.state))
        with self._lock:
            # A snapshot at a seq already held replaces it (INSERT OR REPLACE in SQLite).
            kept = [s for s in self._snapshots.get(room, []) if s.seq != snapshot.seq]
            self._snapshots[room] = [*kept, snapshot]
        return snapshot.size

    def latest_snapshot(self, room: str, *, until_ts: float | None = None) -> Snapshot | None:
        found = [s for s in self._snapshots.get(room, []) if until_ts is None or s.ts <= until_ts]
        return max(found, key=lambda s: s.seq, default=None)

    # recording: reading and retention

    def snapshot_before(self, room: str, *, seq: int) -> Snapshot | None:
        found = [s for s in self._snapshots.get(room, []) if s.seq <= seq]
        return max(found, key=lambda s: s.seq, default=None)

    def snapshot_index(self, room: str) -> list[tuple[int, float]]:
        return sorted((s.seq, s.ts) for s in self._snapshots.get(room, []))

    def snapshot_sizes(self, room: str) -> list[tuple[int, int]]:
        return sorted((s.seq, len(s.state)) for s in self._snapshots.get(room, []))

    def entry_index(self, room: str, *, kinds: Iterable[str] = (UPDATE,)) -> list[EntryInfo]:
        return [
            EntryInfo(e.seq, e.ts, e.kind, e.origin, len(e.data))
            for e in self.entries(room, kinds=kinds)
        ]

    def first_by_origin(self, room: str, *, kind: str) -> list[LogEntry]:
        first: dict[str, LogEntry] = {}
        for entry in self.entries(room, kinds=(kind,)):
            first.setdefault(entry.origin, entry)
        return sorted(first.values(), key=lambda e: e.seq)

    def storage_bytes(self, room: str) -> int:
        log = sum(len(e.data) for e in self._log.get(room, []))
        return log + sum(len(s.state) for s in self._snapshots.get(room, []))

    def trim(self, room: str, start: Snapshot) -> int:
        with self._lock:
            log = self._log.get(room, [])
            kept = [e for e in log if e.seq > start.seq]
            self._log[room] = kept
            snaps = [s for s in self._snapshots.get(room, []) if s.seq > start.seq]
            start = Snapshot(start.seq, start.ts, start.state, len(start.state))
            self._snapshots[room] = [start, *snaps]
            blocks = [b for b in self._seek_index.get(room, []) if b.seq >= start.seq]
            self._seek_index[room] = blocks
            return len(log) - len(kept)

    # the seek index

    def add_seek_block(self, room: str, block: SeekBlock) -> None:
        with self._lock:
            kept = [b for b in self._seek_index.get(room, []) if b.seq != block.seq]
            self._seek_index[room] = [*kept, block]

    def seek_block(self, room: str, *, until_ts: float) -> SeekBlock | None:
        with self._lock:
            found = [b for b in self._seek_index.get(room, []) if b.ts <= until_ts]
        return max(found, key=lambda b: b.seq, default=None)

    def seek_index_end(self, room: str) -> tuple[int, float] | None:
        with self._lock:
            blocks = list(self._seek_index.get(room, []))
        last = max(blocks, key=lambda b: (b.end_seq, b.seq), default=None)
        return None if last is None else (last.end_seq, last.end_ts)

    def seek_index_bytes(self, room: str) -> int:
        with self._lock:
            return sum(len(b.data) for b in self._seek_index.get(room, []))

    def drop_seek_index(self, room: str) -> int:
        with self._lock:
            return len(self._seek_index.pop(room, []))

    # links

    def add_link(self, link: LinkRecord) -> None:
        with self._lock:
            if link.id in self._links or any(
                other.token_hash == link.token_hash for other in self._links.values()
            ):
                raise ValueError(f"a link with id {link.id} or the same token exists")
            self._links[link.id] = link

    def links(self, session_id: str) -> list[LinkRecord]:
        found = [link for link in self._links.values() if link.session_id == session_id]
        return sorted(found, key=lambda link: (link.created, link.id))

    def link_by_hash(self, session_id: str, token_hash: str) -> LinkRecord | None:
        return next(
            (
                link
                for link in self._links.values()
                if link.session_id == session_id and link.token_hash == token_hash
            ),
            None,
        )

    def _link(self, session_id: str, link_id: str) -> LinkRecord | None:
        link = self._links.get(link_id)
        return link if link is not None and link.session_id == session_id else None

    def revoke_link(self, session_id: str, link_id: str, ts: float) -> LinkRecord | None:
        with self._lock:
            link = self._link(session_id, link_id)
            if link is not None and link.revoked is None:
                link = self._links[link_id] = dataclasses.replace(link, revoked=ts)
            return link

    def touch_link(self, session_id: str, link_id: str, ts: float) -> None:
        with self._lock:
            link = self._link(session_id, link_id)
            if link is not None:
                self._links[link_id] = dataclasses.replace(link, last_seen=ts)

    # grants

    def put_grant(self, grant: GrantRecord) -> None:
        with self._lock:
            self._grants[(grant.session_id, grant.kind, grant.name)] = grant

    def grants(self, session_id: str) -> list[GrantRecord]:
        found = [g for g in list(self._grants.values()) if g.session_id == session_id]
        return sorted(found, key=lambda g: (g.created, g.kind, g.name))

    def grants_for(self, user: str, groups: Sequence[str] = ()) -> list[GrantRecord]:
        wanted = {("user", user), *(("group", group) for group in groups)}
        found = [g for g in list(self._grants.values()) if (g.kind, g.name) in wanted]
        return sorted(found, key=lambda g: (g.created, g.session_id, g.kind, g.name))

    def remove_grant(self, session_id: str, kind: str, name: str) -> bool:
        with self._lock:
            return self._grants.pop((session_id, kind, name), None) is not None

    def next_generation(self, session_id: str, role: str) -> SessionRecord | None:
        token, generation = token_column(role), generation_column(role)
        with self._lock:
            record = self._sessions.get(session_id)
            if record is not None:
                changes = {token: "", generation: getattr(record, generation) + 1}
                record = dataclasses.replace(record, **changes)
                self._sessions[session_id] = record
            return record

    def delete_session(self, session_id: str) -> bool:
        with self._lock:
            found = self._sessions.pop(session_id, None) is not None
            self._log.pop(session_id, None)
            self._snapshots.pop(session_id, None)
            self._seek_index.pop(session_id, None)
            for link_id in [k for k, v in self._links.items() if v.session_id == session_id]:
                del self._links[link_id]
            for key in [k for k in self._grants if k[0] == session_id]:
                del self._grants[key]
            return found
