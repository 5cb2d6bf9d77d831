"""Findings 2, 3, 4 and 12: presence is owned, bounded and checked before anyone renders it.

Policy (README): a connection owns the client ids it introduced first; entries for an id another
connection owns are dropped; more than MAX_PRESENCE_IDS ids, a state over MAX_PRESENCE_BYTES or a
malformed update close the sender with 4400; invalid `user.name` / `user.color` are dropped from
the state that is relayed and recorded.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import pytest
from pycrdt import Awareness, Doc
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from collabd.client import NotebookClient
from collabd.sync import protocol
from collabd.sync.protocol import Kind
from collabd.sync.room import Close, PresenceLimits, Relay, Role, Room
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]


def var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def awareness_update(*states: tuple[int, int, object]) -> bytes:
    """An awareness update: (client id, clock, state) each; a str state is sent as is."""
    out = var_uint(len(states))
    for client_id, clock, state in states:
        text = state if isinstance(state, str) else json.dumps(state)
        data = text.encode()
        out += var_uint(client_id) + var_uint(clock) + var_uint(len(data)) + data
    return out


def frame(*states: tuple[int, int, object]) -> bytes:
    return protocol.awareness(awareness_update(*states))


def relayed_states(actions: list[Any]) -> dict[int, Any]:
    relays = [a for a in actions if isinstance(a, Relay)]
    assert len(relays) == 1, actions
    message = protocol.parse(relays[0].frame)
    assert message.kind is Kind.AWARENESS
    probe = Awareness(Doc())  # decoded as a client's awareness does
    probe.set_local_state(None)
    probe.apply_awareness_update(message.payload, "test")
    return dict(probe.states)


def closes(actions: list[Any]) -> list[Close]:
    return [a for a in actions if isinstance(a, Close)]


# the pure room


def test_a_connection_cannot_speak_for_a_client_id_it_does_not_own() -> None:
    room = Room(Doc())
    room.join(1, Role.EDIT)
    room.join(2, Role.VIEW)
    room.receive(1, frame((100, 1, {"user": {"name": "editor", "color": "#123456"}})))
    spoof = room.receive(2, frame((100, 2, {"user": {"name": "spoofed", "color": "#ff0000"}})))
    assert spoof == []  # dropped, not relayed
    assert room.presence()[100]["user"]["name"] == "editor"
    # the spoofer leaving removes nothing of the editor's
    room.receive(2, frame((200, 1, {"user": {"name": "viewer"}})))
    left = room.leave(2)
    assert relayed_states(left) == {}  # only 200 is removed...
    assert set(room.presence()) == {100}  # ...and the editor is still here


def test_presence_ids_per_connection_are_capped() -> None:
    room = Room(Doc(), PresenceLimits(max_ids=4))
    room.join(1, Role.VIEW)
    for cid in range(1, 5):
        assert not closes(room.receive(1, frame((cid, 1, {"user": {"name": f"n{cid}"}}))))
    refused = closes(room.receive(1, frame((5, 1, {"user": {"name": "n5"}}))))
    assert [c.code for c in refused] == [4400]
    assert "client ids" in refused[0].reason
    # giving an id back frees its seat
    room.receive(1, frame((1, 2, "null")))
    assert not closes(room.receive(1, frame((6, 1, {}))))


def test_presence_state_size_is_capped() -> None:
    room = Room(Doc(), PresenceLimits(max_state_bytes=1000))
    room.join(1, Role.VIEW)
    assert not closes(room.receive(1, frame((1, 1, {"pad": "x" * 900}))))
    refused = closes(room.receive(1, frame((1, 2, {"pad": "x" * 1000}))))
    assert [c.code for c in refused] == [4400]
    assert "over 1000 bytes" in refused[0].reason
    assert room.presence()[1]["pad"] == "x" * 900


@pytest.mark.parametrize(
    ("user", "kept"),
    [
        (
            {"name": "Ada", "color": "#1f77b4", "colorLight": "#1f77b433"},
            {"name", "color", "colorLight"},
        ),
        ({"name": "Ada", "color": "#abc"}, {"name", "color"}),
        ({"name": "Ada", "color": "red; background: url(//evil)"}, {"name"}),
        ({"name": "Ada", "color": "#12345"}, {"name"}),
        ({"name": "x" * 65, "color": "#abc"}, {"color"}),
        ({"name": "Ada\u202eevil", "color": "#abc"}, {"color"}),
        ({"name": "Ada\nBob", "color": "#abc"}, {"color"}),
        ({"name": ["Ada"], "color": 7}, set()),
    ],
)
def test_invalid_user_fields_are_dropped_before_relay(user: dict[str, Any], kept: set[str]) -> None:
    room = Room(Doc())
    room.join(1, Role.EDIT)
    room.join(2, Role.EDIT)
    states = relayed_states(room.receive(1, frame((9, 1, {"user": user, "cell": "c1"}))))
    assert set(states[9]["user"]) == kept
    assert states[9]["cell"] == "c1"
    assert room.presence()[9] == states[9]


@pytest.mark.parametrize(
    "payload",
    [
        bytes([1, 1, 1]),  # count 1, client 1, clock 1, no state
        bytes([2, 1, 1, 2]) + b"{}",  # two entries announced, one there
        awareness_update((1, 1, {})) + b"\x00",  # trailing bytes
        awareness_update((1, 1, "{not json")),
        awareness_update((1, 1, "[1, 2]")),
        awareness_update((1, 1, "")),
    ],
)
def test_malformed_awareness_closes_4400(payload: bytes) -> None:
    room = Room(Doc())
    room.join(1, Role.EDIT)
    actions = room.receive(1, protocol.awareness(payload))
    assert [c.code for c in closes(actions)] == [4400], actions
    assert room.presence() == {}


# a real hub


async def close_of(ws: ClientConnection, timeout: float = 20.0) -> tuple[int | None, str]:
    async def drain() -> None:
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass

    await asyncio.wait_for(drain(), timeout)
    return ws.close_code, ws.close_reason or ""


def url(hub: HubProcess, s: dict[str, Any], token: str) -> str:
    return f"ws://127.0.0.1:{hub.port}/ws/{s['id']}?token={token}"


def awareness_bytes(hub: HubProcess, session_id: str) -> int:
    with sqlite3.connect(hub.data / "collabd.sqlite3") as db:
        row = db.execute(
            "SELECT coalesce(sum(length(data)), 0) FROM log WHERE room = ? AND kind = 'awareness'",
            (session_id,),
        ).fetchone()
    return int(row[0])


async def test_huge_presence_from_a_view_link_is_refused_and_newcomers_sync(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session("presence-flood.ipynb")
    big = {"user": {"name": "flood"}, "pad": "x" * (8 * 1024 * 1024)}
    async with connect(url(shared_hub, s, s["view_token"]), max_size=None) as ws:
        for cid in range(1000, 1012):
            try:
                await ws.send(frame((cid, 1, big)))
            except ConnectionClosed:
                break
        code, reason = await close_of(ws)
    assert code == 4400, (code, reason)
    assert "bytes" in reason
    async with NotebookClient(shared_hub.base, s["id"], s["view_token"], name="newcomer") as nb:
        assert nb.connected
        assert all("pad" not in state for state in nb.others().values())
    await asyncio.sleep(0.5)  # the recording is written behind the fan-out
    assert awareness_bytes(shared_hub, s["id"]) < 64 * 1024


async def test_a_viewer_cannot_spoof_or_remove_the_editors_presence(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session("presence-spoof.ipynb")
    async with (
        NotebookClient(shared_hub.base, s["id"], s["edit_token"], name="editor") as editor,
        NotebookClient(shared_hub.base, s["id"], s["view_token"], name="watcher") as watcher,
    ):
        await watcher.wait_for(lambda: editor.client_id in watcher.others())
        async with connect(url(shared_hub, s, s["view_token"]), max_size=None) as spoofer:
            spoof = {"user": {"name": "not the editor", "color": "#ff0000"}}
            await spoofer.send(frame((editor.client_id, 10_000, spoof)))
            await spoofer.send(frame((4242, 1, {"user": {"name": "spoofer"}})))
            await watcher.wait_for(lambda: 4242 in watcher.others())
            assert watcher.others()[editor.client_id]["user"]["name"] == "editor"
        await watcher.wait_for(lambda: 4242 not in watcher.others())
        await asyncio.sleep(0.3)
        assert watcher.others()[editor.client_id]["user"]["name"] == "editor"


async def test_state_missing_from_awareness_closes_4400(shared_hub: HubProcess) -> None:
    s = shared_hub.create_session("presence-malformed.ipynb")
    async with (
        NotebookClient(shared_hub.base, s["id"], s["edit_token"], name="bystander") as bystander,
        connect(url(shared_hub, s, s["edit_token"])) as ws,
    ):
        await ws.send(bytes([0x01, 0x03, 0x01, 0x01, 0x01]))
        code, _ = await close_of(ws)
        assert code == 4400
        assert 1 not in bystander.others()
        assert bystander.connected


async def test_invalid_colour_and_name_never_reach_other_participants(
    shared_hub: HubProcess,
) -> None:
    s = shared_hub.create_session("presence-fields.ipynb")
    async with (
        NotebookClient(shared_hub.base, s["id"], s["view_token"], name="watcher") as w,
        connect(url(shared_hub, s, s["edit_token"])) as ws,
    ):
        user = {"name": "<img src=x onerror=alert(1)>" * 5, "color": "url(javascript:x)"}
        await ws.send(frame((777, 1, {"user": user, "cell": "c"})))
        await w.wait_for(lambda: 777 in w.others())
        assert w.others()[777] == {"user": {}, "cell": "c"}
