"""A shared notebook room, sans I/O: bytes in, actions out.

The room owns the document and the presence (awareness) of one session. It never touches a
socket, a file or the event loop: the hub feeds it frames and carries out the actions it returns,
in order. That keeps every protocol decision testable without a server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from pycrdt import Doc, TransactionEvent, merge_updates

from collabd.sync import presence, protocol
from collabd.sync.presence import ClientState
from collabd.sync.protocol import Kind, ProtocolError
from collabd.sync.wire import Close as CloseCode

PeerId = int
EMPTY_UPDATE = b"\x00\x00"
EMPTY_STATE = b"\x00"  # the state vector of a client that holds nothing yet

# Close codes a peer sees when its own input is refused (the 4xxx range is ours to define).


class Role(StrEnum):
    EDIT = "edit"
    VIEW = "view"


@dataclass(frozen=True, slots=True)
class Reply:
    """Send `data` to one peer only."""

    peer: PeerId
    data: bytes


@dataclass(frozen=True, slots=True)
class Publish:
    """A document update: append it to the log, then send it to every peer but `sender`."""

    update: bytes
    origin: str
    sender: PeerId | None


@dataclass(frozen=True, slots=True)
class Relay:
    """A presence change: send the awareness frame to every peer but `sender`."""

    frame: bytes
    awareness_update: bytes
    origin: str
    sender: PeerId | None


@dataclass(frozen=True, slots=True)
class Close:
    """End one peer's connection because of what it sent."""

    peer: PeerId
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Request:
    """A collabd request (JSON, `{"id", "op", ...}`) from a peer: the hub answers it to that
    peer only (`protocol.request`), after what the request itself changed."""

    peer: PeerId
    role: Role
    body: bytes


Action = Reply | Publish | Relay | Close | Request


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    """What one connection may put in the shared presence (settings MAX_PRESENCE_*)."""

    max_ids: int = 4  # client ids one connection may introduce (a tab has one per document)
    max_state_bytes: int = 64 * 1024  # the JSON of one client's state


class UpdateGuard(Protocol):
    """Checks what participants' updates did to a part of the document the hub owns (the
    chat: collabd.chatguard; the execution state: collabd.stateguard).

    `before` runs before a participant's update is applied, `after` right after (also when
    the update was refused, whose repair is then dropped); an edit it returns is the hub's
    repair, published with `origin` in the same batch as the update."""

    origin: str

    def before(self) -> None: ...

    def after(self, peer: PeerId) -> Callable[[Doc[Any]], None] | None: ...


@dataclass(slots=True)
class _Peer:
    role: Role
    name: str | None = None  # the named link's: its presence shows this name, verified
    # the client ids its presence speaks for; the usual one (a tab has one per document) is
    # kept as the int itself: no container per connection
    owned: int | tuple[int, ...] = ()

    @property
    def client_ids(self) -> tuple[int, ...]:
        return (self.owned,) if isinstance(self.owned, int) else self.owned

    def own(self, client_ids: set[int]) -> None:
        self.owned = next(iter(client_ids)) if len(client_ids) == 1 else tuple(client_ids)


class Room:
    """One document and its presence, shared by the peers that joined it."""

    def __init__(self, doc: Doc[Any], limits: PresenceLimits | None = None) -> None:
        self.doc = doc
        self.limits = limits or PresenceLimits()
        self.states = presence.States()  # the hub itself has no presence
        self._peers: dict[PeerId, _Peer] = {}
        # Presence ownership: the first connection to speak for a client id owns it until it
        # leaves, so nobody can rename, move or (by leaving) remove someone else's cursor.
        self._owners: dict[int, PeerId] = {}
        self._full_state: bytes | None = None  # what a new client needs; kept until a change
        self.guards: list[UpdateGuard] = []  # added by extensions as the room loads

    @property
    def peer_count(self) -> int:
        return len(self._peers)

    def presence(self) -> dict[int, dict[str, object]]:
        """Client id -> awareness state, for everyone present."""
        return self.states.decoded()

    def client_ids(self, peer: PeerId) -> set[int]:
        """The client ids this peer's presence speaks for."""
        info = self._peers.get(peer)
        return set(info.client_ids) if info is not None else set()

    def roles(self) -> dict[str, int]:
        """How many peers hold each role."""
        counts = {str(role): 0 for role in Role}
        for info in self._peers.values():
            counts[str(info.role)] += 1
        return counts

    def join(self, peer: PeerId, role: Role, name: str | None = None) -> list[Action]:
        """A peer connected: ask for its state and show it who is here. With `name` (it joined
        with a named link), its presence carries that name whatever it sends."""
        self._peers[peer] = _Peer(role, name=name)
        actions: list[Action] = [Reply(peer, protocol.sync_step1(self.doc.get_state()))]
        present = self.states.ids()
        if present:
            update = self.states.encode(present)
            actions.append(Reply(peer, protocol.awareness(update)))
        return actions

    def leave(self, peer: PeerId) -> list[Action]:
        """A peer left: remove its presence for everyone at once."""
        info = self._peers.pop(peer, None)
        if info is None or not info.client_ids:
            return []
        for client_id in info.client_ids:
            self._owners.pop(client_id, None)
        gone = [cid for cid in info.client_ids if cid in self.states]
        if not gone:
            return []
        self.states.remove(gone)
        update = self.states.encode(gone)
        return [Relay(protocol.awareness(update), update, f"peer:{peer}", None)]

    def receive(self, peer: PeerId, frame: bytes) -> list[Action]:
        """Handle one frame from a peer that joined."""
        info = self._peers.get(peer)
        if info is None:
            return []
        try:
            message = protocol.parse(frame)
        except ProtocolError as exc:
            return [Close(peer, CloseCode.BAD_FRAME, str(exc))]
        handler = _HANDLERS.get(message.kind)
        return handler(self, peer, info, message.payload) if handler else []

    def _on_step1(self, peer: PeerId, info: _Peer, state_vector: bytes) -> list[Action]:
        try:
            missing = self._missing(state_vector)
        except ValueError as exc:
            return [Close(peer, CloseCode.BAD_FRAME, f"bad state vector: {exc}")]
        return [Reply(peer, protocol.sync_step2(missing))]

    def _missing(self, state_vector: bytes) -> bytes:
        if state_vector != EMPTY_STATE:
            return self.doc.get_update(state_vector)
        if self._full_state is None:  # many clients join with nothing: encode it once
            self._full_state = self.doc.get_update()
        return self._full_state

    def _on_update(self, peer: PeerId, info: _Peer, update: bytes) -> list[Action]:
        if update == EMPTY_UPDATE:
            return []
        if info.role is not Role.EDIT:
            return [Reply(peer, protocol.permission_denied("view-only link: changes are refused"))]
        self._full_state = None
        guards = self.guards
        for guard in guards:
            guard.before()
        try:
            self.doc.apply_update(update)
        except BaseException as exc:
            for guard in guards:  # back to watching the hub's own changes
                guard.after(peer)
            if not _refused(exc):
                raise
            return [Close(peer, CloseCode.BAD_UPDATE, f"update cannot be applied: {exc}")]
        actions: list[Action] = [Publish(update, f"peer:{peer}", peer)]
        for guard in guards:
            if (repair := guard.after(peer)) is not None:
                actions += self.change(guard.origin, repair)
        return actions

    def _on_awareness(self, peer: PeerId, info: _Peer, update: bytes) -> list[Action]:
        """Check, keep what this peer may say, and relay that (never the raw bytes).

        Entries for client ids another connection owns are dropped (not refused: a browser that
        reconnects reuses its id while the hub may not have seen the old connection go yet).
        """
        try:
            entries = presence.decode(update, max_state_bytes=self.limits.max_state_bytes)
        except presence.BadPresence as exc:
            return [Close(peer, CloseCode.BAD_FRAME, f"bad awareness update: {exc}")]
        kept = [
            presence.attribute(e, info.name) for e in entries if self._may_speak_for(peer, info, e)
        ]
        claimed = {e.client_id for e in kept if e.present}.difference(info.client_ids)
        if len(info.client_ids) + len(claimed) > self.limits.max_ids:
            reason = f"presence for more than {self.limits.max_ids} client ids on one connection"
            return [Close(peer, CloseCode.BAD_FRAME, reason)]
        if not kept:
            return []
        cleaned = presence.encode(kept)
        self.states.apply(kept)
        owned = set(info.client_ids)
        for entry in kept:
            if entry.present:
                owned.add(entry.client_id)
                self._owners[entry.client_id] = peer
            else:
                owned.discard(entry.client_id)
                self._owners.pop(entry.client_id, None)
        info.own(owned)
        return [Relay(protocol.awareness(cleaned), cleaned, f"peer:{peer}", peer)]

    def _may_speak_for(self, peer: PeerId, info: _Peer, entry: ClientState) -> bool:
        if entry.client_id == self.doc.client_id:  # the hub's own (empty) presence
            return False
        owner = self._owners.get(entry.client_id)
        if owner is None:
            return entry.present  # removing a state nobody owns: there is none
        return owner == peer

    def _on_query_awareness(self, peer: PeerId, info: _Peer, _: bytes) -> list[Action]:
        return [Reply(peer, protocol.awareness(self.states.encode(self.states.ids())))]

    def _on_request(self, peer: PeerId, info: _Peer, body: bytes) -> list[Action]:
        return [Request(peer, info.role, body)]

    def change(self, origin: str, edit: Callable[[Doc[Any]], None]) -> list[Action]:
        """Make a change of the hub's own (kernel output, disk merge) and publish it.

        `edit` opens its own transaction(s): jupyter_ydoc objects cannot be created inside one.
        Several transactions are published as one merged update.
        """
        updates: list[bytes] = []

        def collect(event: TransactionEvent) -> None:
            updates.append(event.update)

        self._full_state = None
        subscription = self.doc.observe(collect)
        try:
            edit(self.doc)
        finally:
            self.doc.unobserve(subscription)
        updates = [u for u in updates if u != EMPTY_UPDATE]
        if not updates:
            return []
        return [Publish(merge_updates(*updates) if len(updates) > 1 else updates[0], origin, None)]


_Handler = Callable[[Room, PeerId, _Peer, bytes], list[Action]]
_HANDLERS: dict[Kind, _Handler] = {
    Kind.SYNC_STEP1: Room._on_step1,
    Kind.SYNC_STEP2: Room._on_update,
    Kind.UPDATE: Room._on_update,
    Kind.AWARENESS: Room._on_awareness,
    Kind.QUERY_AWARENESS: Room._on_query_awareness,
    Kind.REQUEST: Room._on_request,
}


def _refused(exc: BaseException) -> bool:
    """Errors that mean "this peer's input is bad", as opposed to the hub being stopped.

    pycrdt raises ValueError for an update it cannot decode; a panic inside the Rust core
    surfaces as pyo3's PanicException, which derives from BaseException.
    """
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"
