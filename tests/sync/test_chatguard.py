"""The chat guard's decisions, sans I/O: a room with the guard, peers as plain documents (the
fake network of test_room), and the pure repair."""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc

from collabd import chat
from collabd.chatguard import ChatGuard, Identity, applied, carry_out, identity_of, plan
from collabd.sync.room import Publish, Room
from tests.sync.test_room import Network, insert, new_room

ANN = Identity("Ann", False, None, frozenset({7}))


def msg(mid: str, text: str, name: str = "Ann", **extra: Any) -> dict[str, Any]:
    return {"id": mid, "by": {"name": name, "client_id": 7}, "at": 1.0, "text": text, **extra}


def guarded() -> tuple[Room, Network, ChatGuard]:
    room = new_room("x")
    guard = ChatGuard(room.doc, lambda peer: ANN, max_chars=100, clock=lambda: 50.0)
    room.guards.append(guard)
    return room, Network(room), guard


def append(*items: Any) -> Any:
    return lambda doc: doc.get("chat", type=Array).extend(list(items))


def test_an_update_that_does_not_touch_the_chat_is_published_alone() -> None:
    _room, net, guard = guarded()
    ed = net.join(1)
    actions = net.edit(ed, insert(0, "hello "))
    assert [type(a) for a in actions] == [Publish] and guard.repairs == 0


def test_a_forged_name_is_replaced_in_the_same_batch() -> None:
    room, net, _guard = guarded()
    ed, other = net.join(1), net.join(2)
    actions = net.edit(ed, append(msg("m1", "hi", name="Bob")))
    publishes = [a for a in actions if isinstance(a, Publish)]
    assert [p.origin for p in publishes] == ["peer:1", "chat"] and publishes[1].sender is None
    expected = {
        "id": "m1",
        "by": {"name": "Ann", "client_id": 7, "verified": False, "corrected": True},
        "at": 50.0,
        "text": "hi",
    }
    for doc in (room.doc, ed.doc, other.doc):
        assert chat.chat_array(doc).to_py() == [expected]


def test_the_hubs_own_messages_are_accepted_and_others_restored() -> None:
    room, net, _guard = guarded()
    ed = net.join(1)
    hub_message = msg("h1", "from the hub", name="Vi")
    net.run(room.change("chat", lambda doc: chat.append(doc, hub_message)))

    def vandalise(doc: Doc[Any]) -> None:
        array = doc.get("chat", type=Array)
        del array[0]
        array.append({**hub_message, "text": "changed"})

    net.edit(ed, vandalise)
    assert chat.chat_array(room.doc).to_py() == [hub_message]
    assert chat.chat_array(ed.doc).to_py() == [hub_message]


def test_the_plan_restores_rewrites_and_drops() -> None:
    old = [msg("a", "first"), msg("b", "second")]
    inserted = [
        msg("n1", "new one"),
        "junk",
        {"id": "long", "text": "x" * 101},
        msg("n2", "a reply", reply_to="a", cell_id="elsewhere"),
        msg("n3", "answers nothing", reply_to="gone"),
        msg("n1", "same id again"),
        {**old[1], "text": "b, edited"},
    ]
    delta = [{"retain": 1}, {"insert": inserted}, {"delete": 1}]  # "b" deleted
    current = applied(old, delta)
    assert current == [old[0], *inserted]
    doc: Doc[Any] = Doc()
    chat.chat_array(doc).extend(current)
    carry_out(doc, plan(old, delta, ANN, max_chars=100, now=5.0))
    result = chat.chat_array(doc).to_py()
    assert [m["id"] for m in result] == ["a", "n1", "n2", "b"]
    assert result[2]["reply_to"] == "a" and result[2]["cell_id"] == "elsewhere"
    assert result[1]["by"] == {"name": "Ann", "client_id": 7, "verified": False}
    assert result[3] == old[1]


def test_the_identity_comes_from_the_link_else_the_presence() -> None:
    named = identity_of({"link": "L1", "link_name": "Grace"}, [{"user": {"name": "X"}}], {3})
    assert named == Identity("Grace", True, "L1", frozenset({3}))
    assert identity_of({}, [{"user": {"name": " Ann "}}], {3}).name == "Ann"
    assert identity_of({}, [{"user": {"name": "\x07"}}], set()).name == chat.ANONYMOUS


def test_direct_writes_over_the_rate_are_removed() -> None:
    room = new_room("x")
    clock = [0.0]
    rate = chat.RateLimit(2, 10.0, clock=lambda: clock[0])
    room.guards.append(ChatGuard(room.doc, lambda peer: ANN, max_chars=100, rate=rate))
    net = Network(room)
    ed = net.join(1)
    net.edit(ed, append(msg("m1", "one"), msg("m2", "two"), msg("m3", "three")))
    assert [m["id"] for m in chat.chat_array(room.doc).to_py()] == ["m1", "m2"]
    clock[0] = 11.0
    net.edit(ed, append(msg("m4", "four")))
    assert [m["id"] for m in chat.chat_array(ed.doc).to_py()] == ["m1", "m2", "m4"]
