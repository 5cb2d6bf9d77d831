"""The room's protocol decisions, with no sockets and no event loop.

Peers are plain pycrdt documents joined to the room by a fake link that delivers each action.
"""

from __future__ import annotations

from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Awareness, Doc, Text

from collabd import notebook
from collabd.sync import protocol
from collabd.sync.protocol import Kind
from collabd.sync.room import (
    Action,
    Close,
    Publish,
    Relay,
    Reply,
    Role,
    Room,
)


class FakePeer:
    """A client document on the other end of a perfect link."""

    def __init__(self, peer_id: int) -> None:
        self.id = peer_id
        self.doc: Doc[Any] = Doc()
        self.awareness = Awareness(self.doc)
        self.denied: list[str] = []

    def deliver(self, frame: bytes) -> bytes | None:
        message = protocol.parse(frame)
        if message.kind is Kind.SYNC_STEP1:
            return protocol.sync_step2(self.doc.get_update(message.payload))
        if message.kind in (Kind.SYNC_STEP2, Kind.UPDATE):
            self.doc.apply_update(message.payload)
        elif message.kind is Kind.AWARENESS:
            self.awareness.apply_awareness_update(message.payload, "remote")
        elif message.kind is Kind.AUTH:
            self.denied.append(message.payload[2:].decode())
        return None


class Network:
    def __init__(self, room: Room) -> None:
        self.room = room
        self.peers: dict[int, FakePeer] = {}
        self.log: list[Publish] = []
        self.closed: list[Close] = []

    def join(self, peer_id: int, role: Role = Role.EDIT) -> FakePeer:
        peer = self.peers[peer_id] = FakePeer(peer_id)
        self.run(self.room.join(peer_id, role))
        self.send(peer, protocol.sync_step1(peer.doc.get_state()))
        return peer

    def send(self, peer: FakePeer, frame: bytes) -> list[Action]:
        actions = self.room.receive(peer.id, frame)
        self.run(actions)
        return actions

    def edit(self, peer: FakePeer, change: Any) -> list[Action]:
        before = peer.doc.get_state()
        change(peer.doc)
        return self.send(peer, protocol.update(peer.doc.get_update(before)))

    def run(self, actions: list[Action]) -> None:
        for action in actions:
            if isinstance(action, Reply):
                answer = self.peers[action.peer].deliver(action.data)
                if answer is not None:
                    self.send(self.peers[action.peer], answer)
            elif isinstance(action, Publish):
                self.log.append(action)
                for peer in list(self.peers.values()):
                    if peer.id != action.sender:
                        peer.deliver(protocol.update(action.update))
            elif isinstance(action, Relay):
                for peer in list(self.peers.values()):
                    if peer.id != action.sender:
                        peer.deliver(action.frame)
            elif isinstance(action, Close):
                self.closed.append(action)


def text(doc: Doc[Any]) -> str:
    return str(doc.get("t", type=Text))


def insert(index: int, chars: str) -> Any:
    return lambda doc: doc.get("t", type=Text).insert(index, chars)


def new_room(initial: str = "") -> Room:
    doc: Doc[Any] = Doc()
    doc.get("t", type=Text).insert(0, initial)
    return Room(doc)


def test_joining_peer_receives_the_document() -> None:
    net = Network(new_room("hello"))
    peer = net.join(1)
    assert text(peer.doc) == "hello"


def test_edits_reach_every_other_peer_and_are_logged_once() -> None:
    net = Network(new_room())
    a, b, c = net.join(1), net.join(2), net.join(3)
    net.edit(a, insert(0, "abc"))
    net.edit(b, insert(3, "def"))
    assert text(net.room.doc) == text(a.doc) == text(b.doc) == text(c.doc) == "abcdef"
    assert [p.sender for p in net.log] == [1, 2]


def test_view_peer_is_refused_and_changes_nothing() -> None:
    net = Network(new_room("x"))
    editor, viewer = net.join(1), net.join(2, Role.VIEW)
    actions = net.edit(viewer, insert(0, "evil"))
    assert actions == [Reply(2, protocol.permission_denied("view-only link: changes are refused"))]
    assert viewer.denied and text(net.room.doc) == "x" == text(editor.doc)
    assert net.log == []


def test_view_peer_still_receives_updates_and_may_send_presence() -> None:
    net = Network(new_room())
    editor, viewer = net.join(1), net.join(2, Role.VIEW)
    net.edit(editor, insert(0, "live"))
    assert text(viewer.doc) == "live"
    viewer.awareness.set_local_state({"user": {"name": "v"}})
    update = viewer.awareness.encode_awareness_update([viewer.doc.client_id])
    net.send(viewer, protocol.awareness(update))
    assert editor.awareness.states[viewer.doc.client_id] == {"user": {"name": "v"}}


def test_leaving_removes_presence_for_everyone() -> None:
    net = Network(new_room())
    a, b = net.join(1), net.join(2)
    a.awareness.set_local_state({"user": {"name": "a"}})
    net.send(a, protocol.awareness(a.awareness.encode_awareness_update([a.doc.client_id])))
    assert a.doc.client_id in b.awareness.states
    net.run(net.room.leave(1))
    del net.peers[1]
    assert a.doc.client_id not in b.awareness.states
    assert a.doc.client_id not in net.room.presence()


def test_late_joiner_sees_who_is_present() -> None:
    net = Network(new_room())
    a = net.join(1)
    a.awareness.set_local_state({"user": {"name": "a"}})
    net.send(a, protocol.awareness(a.awareness.encode_awareness_update([a.doc.client_id])))
    late = net.join(2)
    assert late.awareness.states[a.doc.client_id]["user"]["name"] == "a"


def test_malformed_frame_closes_only_that_peer() -> None:
    net = Network(new_room("ok"))
    bad, good = net.join(1), net.join(2)
    actions = net.send(bad, b"\x00\x02\x09ab")
    assert actions == [Close(1, 4400, actions[0].reason)]  # type: ignore[union-attr]
    net.edit(good, insert(2, "!"))
    assert text(net.room.doc) == "ok!"


def test_update_that_cannot_be_applied_is_refused() -> None:
    net = Network(new_room("ok"))
    bad = net.join(1)
    actions = net.send(bad, protocol.update(b"\x05\xff\xff\xff"))
    assert isinstance(actions[0], Close) and actions[0].code == 4422
    assert net.log == [] and text(net.room.doc) == "ok"


def test_empty_updates_are_not_logged() -> None:
    net = Network(new_room())
    peer = net.join(1)
    assert net.send(peer, protocol.update(b"\x00\x00")) == []
    assert net.log == []


def test_hub_change_is_published_as_one_update() -> None:
    net = Network(new_room())
    peer = net.join(1)

    def two_transactions(doc: Doc[Any]) -> None:
        doc.get("t", type=Text).insert(0, "a")
        doc.get("t", type=Text).insert(1, "b")

    actions = net.room.change("kernel", two_transactions)
    net.run(actions)
    assert len(actions) == 1 and isinstance(actions[0], Publish)
    assert actions[0].origin == "kernel" and actions[0].sender is None
    assert text(peer.doc) == "ab"


def test_notebook_room_round_trips_nbformat() -> None:
    doc: Doc[Any] = Doc()
    nb = notebook.empty_notebook()
    room = Room(doc)
    room.change("import", lambda d: notebook.load_into(d, nb))
    net = Network(room)
    peer = net.join(1)
    ynb = YNotebook(peer.doc)
    assert ynb.get()["cells"][0]["id"] == nb["cells"][0]["id"]
    assert notebook.to_json(peer.doc)["cells"] == notebook.to_json(doc)["cells"]


def test_new_clients_get_the_current_document_after_every_kind_of_change() -> None:
    net = Network(new_room("a"))
    first = net.join(1)
    assert text(first.doc) == "a"
    net.edit(first, insert(1, "b"))
    assert text(net.join(2).doc) == "ab"
    net.run(net.room.change("kernel", insert(2, "c")))
    assert text(net.join(3).doc) == "abc"
