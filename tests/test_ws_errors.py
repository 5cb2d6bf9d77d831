"""Bad input over the websocket: a clear close code for the sender, no harm to anyone else."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabd.client import NotebookClient
from collabd.sync import protocol

from .conftest import HubProcess

LIMITS = {
    "COLLABD_MAX_MESSAGE_BYTES": "100000",
    "COLLABD_RATE_MESSAGES_PER_S": "5",
    "COLLABD_RATE_BURST": "20",
}


@pytest.fixture(scope="module")
def limited_hub(tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("limited")
    (base / "root").mkdir()
    hub = HubProcess(root=base / "root", data=base / "data", env=LIMITS).start()
    yield hub
    hub.stop()


async def close_of(
    url: str, *, send: list[bytes | str] = (), **kw: Any
) -> tuple[int, str, list[Any]]:  # type: ignore[assignment]
    """Connect, send frames, and return the close code, reason and every frame received."""
    received: list[Any] = []
    async with connect(url, **kw) as ws:
        for frame in send:
            await ws.send(frame)
        try:
            async for message in ws:
                received.append(message)
        except ConnectionClosed:
            pass
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason or "", received


def ws_url(hub: HubProcess, session: dict[str, Any], token: str | None) -> str:
    base = f"ws://127.0.0.1:{hub.port}/ws/{session['id']}"
    return base if token is None else f"{base}?token={token}"


@pytest.mark.parametrize(("token", "code"), [(None, 4401), ("wrong", 4401), ("", 4401)])
async def test_bad_tokens_are_refused_before_any_data(
    limited_hub: HubProcess, token: str | None, code: int
) -> None:
    s = limited_hub.create_session("tok.ipynb")
    got, reason, frames = await close_of(ws_url(limited_hub, s, token))
    assert (got, frames) == (code, []) and reason


async def test_admin_token_is_not_a_document_token_for_other_sessions(
    limited_hub: HubProcess,
) -> None:
    a = limited_hub.create_session("a1.ipynb")
    b = limited_hub.create_session("b1.ipynb")
    got, _, frames = await close_of(ws_url(limited_hub, b, a["edit_token"]))
    assert (got, frames) == (4401, [])


async def test_unknown_session_is_4404(limited_hub: HubProcess) -> None:
    # only the admin token learns that a session does not exist (finding 11); others get 4401
    url = f"ws://127.0.0.1:{limited_hub.port}/ws/nope?token={limited_hub.token}"
    got, _, frames = await close_of(url)
    assert (got, frames) == (4404, [])


async def test_foreign_browser_origin_is_refused(limited_hub: HubProcess) -> None:
    s = limited_hub.create_session("origin.ipynb")
    url = ws_url(limited_hub, s, s["edit_token"])
    got, _, frames = await close_of(url, origin="http://evil.example")  # type: ignore[arg-type]
    assert (got, frames) == (4403, [])
    # the page's own origin is fine
    async with connect(url, origin=f"http://127.0.0.1:{limited_hub.port}") as ws:  # type: ignore[arg-type]
        first = await asyncio.wait_for(ws.recv(), 10)
        assert isinstance(first, bytes) and protocol.parse(first).kind is protocol.Kind.SYNC_STEP1


async def bystander(hub: HubProcess, s: dict[str, Any]) -> NotebookClient:
    client = NotebookClient.from_link(s["edit_url"], name="bystander")
    await client.connect()
    return client


async def still_works(hub: HubProcess, s: dict[str, Any], client: NotebookClient) -> None:
    cell = client.cell_ids()[0]
    client.insert_text(cell, 0, "still fine")
    async with NotebookClient.from_link(s["view_url"]) as other:
        await other.wait_for(lambda: other.source(cell).startswith("still fine"))
    assert client.connected


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([b"\x00\x02\x09ab"], 4400),  # length prefix past the end
        ([b"\x07"], 4400),  # unknown message type
        (["a text frame"], 4400),
        ([protocol.update(b"\x05\xff\xff\xff\x0f")], 4422),  # update pycrdt cannot apply
        ([b"\x01" + b"\x00" * 200_000], 1009),  # over the size limit
        ([protocol.awareness(b"\x00")] * 100, 4429),  # over the rate limit
    ],
    ids=["malformed", "unknown-type", "text", "bad-update", "too-big", "rate"],
)
async def test_bad_frames_close_only_the_sender(
    limited_hub: HubProcess, frames: list[Any], code: int
) -> None:
    s = limited_hub.create_session(f"bad{code}-{len(frames)}-{type(frames[0]).__name__}.ipynb")
    good = await bystander(limited_hub, s)
    got, reason, _ = await close_of(ws_url(limited_hub, s, s["edit_token"]), send=frames)
    assert got == code and reason
    await still_works(limited_hub, s, good)
    await good.close()


async def test_view_token_changes_are_refused_and_never_stored(limited_hub: HubProcess) -> None:
    s = limited_hub.create_session("view.ipynb")
    async with NotebookClient.from_link(s["edit_url"]) as editor:
        viewer = NotebookClient.from_link(s["view_url"], name="viewer")
        await viewer.connect()
        cell = viewer.cell_ids()[0]
        viewer.insert_text(cell, 0, "sneaky")
        viewer.insert_cell(0, "also sneaky")
        await viewer.wait_for(lambda: len(viewer.denied) >= 2)
        assert "view-only" in viewer.denied[0]
        editor.insert_text(cell, 0, "legit")
        await viewer.wait_for(lambda: "legit" in viewer.source(cell))
        assert editor.source(cell) == "legit" and len(editor.cells()) == 1
        await viewer.close()
    async with NotebookClient.from_link(s["view_url"]) as fresh:
        assert fresh.source(cell) == "legit" and len(fresh.cells()) == 1
    status, nb = limited_hub.api("GET", f"/api/sessions/{s['id']}/notebook", token=s["view_token"])
    assert status == 200 and "sneaky" not in str(nb)
