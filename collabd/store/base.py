"""The store interface.

Methods are synchronous and may block: the hub calls them from one worker thread, in order, so
that the log is written in the order updates were accepted (and before they are broadcast).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# Kinds of log entry. Only "update" entries make up the document; the others are the recording.
UPDATE = "update"
AWARENESS = "awareness"
EVENT = "event"


class Fenced(RuntimeError):
    """A write carried a fencing token older than the room's: another hub owns the room now.

    Only stores shared by several hubs (PostgreSQL) check fences; a single-process store has one
    writer per room by construction and takes the token without checking it."""


@dataclass(frozen=True, slots=True)
class SessionRecord:
    """A session. Its two anonymous links' tokens are not stored: each is derived from the
    hub's link key, the session id, the role and the role's generation (`collabd.linktokens`),
    and the store keeps only the generation, with an empty token. Generation 0 is a session made
    before 0.3, whose stored token is its token until that link is replaced. The hub fills the
    tokens in (`linktokens.reveal`) before anything else sees the record."""

    id: str
    path: str
    edit_token: str
    view_token: str
    created: float
    edit_gen: int = 0
    view_gen: int = 0


@dataclass(frozen=True, slots=True)
class LinkRecord:
    """A named link to a session: a person (or a bot) with a role, revocable on its own.

    The token itself is never stored: only its SHA-256 (hex), which is what a presented token is
    looked up and compared by."""

    id: str
    session_id: str
    name: str
    role: str  # "edit" or "view"
    token_hash: str
    created: float
    expires: float | None = None  # Unix s; None: never
    revoked: float | None = None  # when it was revoked; None: it was not
    last_seen: float | None = None  # when a connection last joined with it
    created_by: str | None = None  # the named link that made it (revoked with it), else None


@dataclass(frozen=True, slots=True)
class GrantRecord:
    """A session shared with a signed-in user (`kind` "user") or with everyone in a JupyterHub
    group (`kind` "group"), with a role: "owner", "edit" or "view". One per (session, kind, name):
    granting again changes the role."""

    session_id: str
    kind: str  # "user" or "group"
    name: str
    role: str  # "owner", "edit" or "view"
    created: float
    created_by: str | None = None  # the user who granted it, None for the admin token


@dataclass(frozen=True, slots=True)
class NewEntry:
    ts: float
    kind: str
    origin: str
    data: bytes


@dataclass(frozen=True, slots=True)
class LogEntry:
    seq: int
    ts: float
    kind: str
    origin: str
    data: bytes


@dataclass(frozen=True, slots=True)
class EntryInfo:
    seq: int
    ts: float
    kind: str
    origin: str
    size: int


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole document state as of log entry `seq` (included). `size` is what it takes in
    the store (compressed), as read back; 0 where not known (a snapshot about to be written)."""

    seq: int
    ts: float
    state: bytes
    size: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class SeekBlock:
    """Derived data for fast seeks (`collabd.recording.seekindex`): the notebook's content as of
    log entry `seq` and each update's effect on it up to `end_seq`. It can be dropped and built
    again from the log at any time; `data` is opaque to the store (already compressed)."""

    seq: int  # the checkpoint is as of this log seq (0: before the room's first entry)
    ts: float  # the time of that entry
    end_seq: int  # the last update the block covers (>= seq)
    end_ts: float
    data: bytes


LINK_ROLES = ("edit", "view")
GRANT_ROLES = ("owner", "edit", "view")
GRANT_KINDS = ("user", "group")


def token_column(role: str) -> str:
    """The SessionRecord field (and column) of the anonymous link of a role."""
    if role not in LINK_ROLES:
        raise ValueError(f"a link's role is edit or view, not {role!r}")
    return f"{role}_token"


def generation_column(role: str) -> str:
    """The SessionRecord field (and column) of the generation of a role's anonymous link."""
    return token_column(role).replace("_token", "_gen")


class Store(ABC):
    # sessions

    @abstractmethod
    def add_session(self, record: SessionRecord) -> None: ...

    @abstractmethod
    def get_session(self, session_id: str) -> SessionRecord | None: ...

    @abstractmethod
    def session_for_path(self, path: str) -> SessionRecord | None: ...

    @abstractmethod
    def sessions(self) -> list[SessionRecord]: ...

    # the log

    @abstractmethod
    def append(self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None) -> int:
        """Append entries in one transaction; return the last sequence number.

        With `fence` (the writer's lease token), raise `Fenced` and write nothing when the room
        has a newer owner."""

    def append_now(
        self, room: str, entries: Sequence[NewEntry], *, fence: int | None = None
    ) -> int | None:
        """`append`, done on the caller's thread only if it cannot wait on anything (a lock, a
        disk sync, the fence's check); None: not now, the caller appends as usual. The hub calls
        it on its event loop, before handing the append to its I/O thread: two thread hops less
        per flush. A store that cannot promise that (the default) never appends here."""
        return None

    @abstractmethod
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
        """Entries with seq > after_seq (and from_ts <= ts <= until_ts), oldest first."""

    @abstractmethod
    def count(self, room: str, *, after_seq: int = 0, kinds: Iterable[str] = (UPDATE,)) -> int: ...

    # snapshots

    @abstractmethod
    def add_snapshot(self, room: str, snapshot: Snapshot, *, fence: int | None = None) -> int:
        """Store a snapshot (replacing one at the same seq); `fence` as for `append`. Returns
        the bytes it takes in the store (compressed: `collabd.store.codec`)."""

    @abstractmethod
    def latest_snapshot(self, room: str, *, until_ts: float | None = None) -> Snapshot | None:
        """The newest snapshot, or the newest taken at or before `until_ts`."""

    # recording: reading and retention (not abstract: other backends work until they add them)

    def snapshot_before(self, room: str, *, seq: int) -> Snapshot | None:
        """The newest snapshot taken at or before log entry `seq`."""
        raise NotImplementedError

    def snapshot_index(self, room: str) -> list[tuple[int, float]]:
        """(seq, ts) of every snapshot, oldest first."""
        raise NotImplementedError

    def snapshot_sizes(self, room: str) -> list[tuple[int, int]]:
        """(seq, bytes stored) of every snapshot, oldest first."""
        raise NotImplementedError

    def entry_index(self, room: str, *, kinds: Iterable[str] = (UPDATE,)) -> list[EntryInfo]:
        """Every entry's seq, ts, kind, origin and size, without the data, oldest first."""
        raise NotImplementedError

    def first_by_origin(self, room: str, *, kind: str) -> list[LogEntry]:
        """The oldest entry of `kind` from each origin."""
        raise NotImplementedError

    def storage_bytes(self, room: str) -> int:
        """Bytes of log data and snapshot state the room holds."""
        raise NotImplementedError

    def trim(self, room: str, start: Snapshot) -> int:
        """Make `start` the beginning of the room's history, in one transaction: store it, drop the
        log entries up to its seq and the snapshots and seek blocks before it. Returns how many
        entries went."""
        raise NotImplementedError

    # the seek index: derived data, so no fence (any hub may write it) and not in storage_bytes

    def add_seek_block(self, room: str, block: SeekBlock) -> None:
        """Store a seek block, replacing the room's block at the same seq."""
        raise NotImplementedError

    def seek_block(self, room: str, *, until_ts: float) -> SeekBlock | None:
        """The block with the greatest seq among those with ts <= `until_ts`."""
        raise NotImplementedError

    def seek_index_end(self, room: str) -> tuple[int, float] | None:
        """(end_seq, end_ts) of the block with the greatest end_seq; None: the room has none."""
        raise NotImplementedError

    def seek_index_bytes(self, room: str) -> int:
        """Bytes of data the room's seek blocks hold."""
        raise NotImplementedError

    def drop_seek_index(self, room: str) -> int:
        """Delete the room's seek blocks; returns how many there were."""
        raise NotImplementedError

    # links (not abstract: other backends work until they add them)

    def add_link(self, link: LinkRecord) -> None:
        """Store a new link (one per id, and per token hash)."""
        raise NotImplementedError

    def links(self, session_id: str) -> list[LinkRecord]:
        """The session's links, revoked ones included, oldest first."""
        raise NotImplementedError

    def link_by_hash(self, session_id: str, token_hash: str) -> LinkRecord | None:
        """The session's link whose token hashes to `token_hash` (revoked or expired too)."""
        raise NotImplementedError

    def revoke_link(self, session_id: str, link_id: str, ts: float) -> LinkRecord | None:
        """Mark the link revoked at `ts` (a revoked link keeps its first time); the link as it
        is now, or None if the session has no such link."""
        raise NotImplementedError

    def touch_link(self, session_id: str, link_id: str, ts: float) -> None:
        """A connection joined with the link at `ts` (its `last_seen`)."""
        raise NotImplementedError

    # grants (sharing with signed-in users)

    def put_grant(self, grant: GrantRecord) -> None:
        """Share the session with the user or group, or change the role of an existing grant
        (its `created` and `created_by` are then the new ones)."""
        raise NotImplementedError

    def grants(self, session_id: str) -> list[GrantRecord]:
        """The session's grants, oldest first."""
        raise NotImplementedError

    def grants_for(self, user: str, groups: Sequence[str] = ()) -> list[GrantRecord]:
        """Every grant to the user, or to one of the groups, across sessions."""
        raise NotImplementedError

    def remove_grant(self, session_id: str, kind: str, name: str) -> bool:
        """Take the grant away; False if there was none."""
        raise NotImplementedError

    def next_generation(self, session_id: str, role: str) -> SessionRecord | None:
        """Replace the session's anonymous `role` ("edit" or "view") link: its generation goes
        up by one and its stored token (one kept from before 0.3) is emptied, in one statement;
        the session as it is now, or None if there is no such session."""
        raise NotImplementedError

    def delete_session(self, session_id: str) -> bool:
        """Remove the session and its whole history (log, snapshots, seek index, links, grants)
        in one transaction; False if there was no such session."""
        raise NotImplementedError

    def persist(self) -> None:
        """Make every append so far readable from another process (`reopener`): a store that
        keeps some pending for a moment (SQLite's pending-appends file) moves them now."""
        return None

    def unpersisted(self) -> bool:
        """Some appends are not yet readable from another process (`persist`)."""
        return False

    def close(self) -> None:
        return None

    def reopener(self) -> Callable[[], Store] | None:
        """A picklable way to open this same store in another process (`collabd.recording.
        offload` reads there); None when there is none (a store held in memory)."""
        return None
