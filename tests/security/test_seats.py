"""Finding 14 (low): a crowd of view links cannot take the editors' seats (real hub): viewers
and editors are counted apart (MAX_VIEWERS, MAX_PARTICIPANTS)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from collabd.settings import Settings
from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]


async def join(hub: HubProcess, s: dict[str, Any], token: str) -> tuple[ClientConnection, int]:
    """Connect; 0 if the hub let us in (it sent the first sync frame), else its close code."""
    ws = await connect(f"ws://127.0.0.1:{hub.port}/ws/{s['id']}?token={token}")
    try:
        await ws.recv()
    except ConnectionClosed:
        return ws, ws.close_code or -1
    return ws, 0


def test_participant_limits() -> None:
    assert Settings().seat_limit(editor=True) == 200
    assert Settings().seat_limit(editor=False) == 2000
    assert Settings(max_participants=5, max_viewers=7).seat_limit(editor=False) == 7


async def test_viewers_and_editors_have_their_own_seats(hub_factory: Any) -> None:
    hub: HubProcess = hub_factory({"COLLABD_MAX_PARTICIPANTS": "2", "COLLABD_MAX_VIEWERS": "18"})
    s = hub.create_session("seats.ipynb")
    open_: list[ClientConnection] = []
    try:
        for _ in range(18):
            ws, code = await join(hub, s, s["view_token"])
            open_.append(ws)
            assert code == 0
        ws, code = await join(hub, s, s["view_token"])
        assert code == 4409  # the audience is full
        for _ in range(2):
            ws, code = await join(hub, s, s["edit_token"])
            open_.append(ws)
            assert code == 0  # the editors' seats were never the audience's
        ws, code = await join(hub, s, s["edit_token"])
        assert code == 4409  # and then it is full for everyone
    finally:
        for ws in open_:
            with contextlib.suppress(Exception):
                await ws.close()
