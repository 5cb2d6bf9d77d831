"""The state guard, sans I/O: the hub's keys of `state` (kernel, queue, input prompt, last event,
kernel choice) are the hub's word; a participant who writes them is undone in the same batch,
and others never see the forgery. Peers as plain documents (the fake network of test_room)."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Map

from collabd.notebook import state
from collabd.stateguard import StateGuard
from collabd.sync.room import Publish, Room
from tests.sync.test_room import Network, insert, new_room

KERNEL = {"status": "idle", "name": "python3", "host": "local"}
QUEUE = [{"request_id": "r1", "cell_id": "c1", "state": "running", "by": {"name": "Ann"}}]


def guarded() -> tuple[Room, Network, StateGuard]:
    room = new_room("x")
    guard = StateGuard(room.doc)
    room.guards.append(guard)
    return room, Network(room), guard


def hub_writes(**values: Any) -> Any:
    def edit(doc: Doc[Any]) -> None:
        with doc.transaction():
            for key, value in values.items():
                state(doc)[key] = value

    return edit


def shared_state(doc: Doc[Any]) -> dict[str, Any]:
    return dict(state(doc).to_py() or {})


def test_forged_execution_state_is_undone_in_the_same_batch() -> None:
    room, net, guard = guarded()
    ed, viewer = net.join(1), net.join(2)
    net.run(room.change("kernel", hub_writes(kernel=KERNEL, queue=QUEUE)))
    hub_view = shared_state(room.doc)

    def forge(doc: Doc[Any]) -> None:
        with doc.transaction():
            shared = state(doc)
            shared["kernel"] = {"status": "restarting", "name": "python3", "reason": "by admin"}
            shared["queue"] = [*QUEUE, {"request_id": "fake", "cell_id": "c2", "state": "queued"}]
            shared["input_request"] = {"prompt": "Password: ", "by": {"name": "Ann"}}
            shared["kernel_choice"] = Map({"host": "elsewhere"})  # a shared type, even
            del shared["queue"]

    actions = net.edit(ed, forge)
    publishes = [a for a in actions if isinstance(a, Publish)]
    assert [p.origin for p in publishes] == ["peer:1", "state"] and guard.repairs == 1
    for doc in (room.doc, ed.doc, viewer.doc):
        assert shared_state(doc) == hub_view


def test_the_hubs_own_changes_are_kept_and_other_keys_left_to_clients() -> None:
    room, net, guard = guarded()
    ed = net.join(1)
    net.run(room.change("kernel", hub_writes(kernel=KERNEL)))
    # a key that is not the hub's (JupyterLab keeps `dirty` there), and an edit elsewhere
    assert [type(a) for a in net.edit(ed, hub_writes(dirty=True))] == [Publish]
    assert [type(a) for a in net.edit(ed, insert(0, "x = 1"))] == [Publish]
    busy = {**KERNEL, "status": "busy"}
    net.run(room.change("kernel", hub_writes(kernel=busy, last_event={"kind": "k"})))
    net.edit(ed, hub_writes(kernel=KERNEL))  # back to "idle", says the forger
    assert guard.repairs == 1
    for doc in (room.doc, ed.doc):
        assert shared_state(doc) == {"kernel": busy, "last_event": {"kind": "k"}, "dirty": True}
