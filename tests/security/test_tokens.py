"""Findings 6 and 11: tokens stay out of the logs, the admin token is header-only, and a wrong
token cannot tell an existing session from an unknown one (real hub processes)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from collabd.client import NotebookClient
from collabd.logredact import redact
from tests.support.hubproc import TOKEN, HubProcess

pytestmark = [pytest.mark.slow]


def get(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> tuple[int, Any]:
    data = b"{}" if method == "POST" else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


async def ws_close(url: str) -> int | None:
    async with connect(url) as ws:
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass
    return ws.close_code


def test_redact_rewrites_every_token_value() -> None:
    assert redact("GET /ws/abc?token=s3cr3t HTTP/1.1") == "GET /ws/abc?token=[redacted] HTTP/1.1"
    assert redact("/x?a=1&TOKEN=abc&b=2") == "/x?a=1&TOKEN=[redacted]&b=2"
    assert redact("/x?tokens=1") == "/x?tokens=1"


async def test_tokens_in_query_strings_never_reach_the_log(hub: HubProcess) -> None:
    s = hub.create_session("logged.ipynb")
    async with NotebookClient(hub.base, s["id"], s["edit_token"], name="ada"):
        pass
    status, _ = get(f"{hub.base}/api/sessions/{s['id']}?token={s['view_token']}")
    assert status == 200
    await asyncio.sleep(0.5)
    log = hub.log()
    assert f"/ws/{s['id']}?token=[redacted]" in log  # the line is still there, useful
    for secret in (s["edit_token"], s["view_token"]):
        assert secret not in log


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/sessions"), ("GET", "/api/sessions"), ("POST", "/api/retention")],
)
def test_the_admin_token_is_not_accepted_in_the_query(
    shared_hub: HubProcess, method: str, path: str
) -> None:
    status, body = get(f"{shared_hub.base}{path}?token={TOKEN}", method=method)
    assert (status, body["error"]) == (401, "unauthorized")
    status, _ = get(f"{shared_hub.base}{path}", {"Authorization": f"Bearer {TOKEN}"}, method=method)
    assert status != 401


async def test_a_wrong_token_cannot_probe_session_ids(shared_hub: HubProcess) -> None:
    s = shared_hub.create_session("probe.ipynb")
    other = shared_hub.create_session("probe-other.ipynb")
    ws = f"ws://127.0.0.1:{shared_hub.port}/ws"
    for sid in (s["id"], "no-such-session"):
        for token in ("wrong", other["edit_token"]):
            assert await ws_close(f"{ws}/{sid}?token={token}") == 4401
            status, body = get(
                f"{shared_hub.base}/api/sessions/{sid}", {"Authorization": f"Bearer {token}"}
            )
            assert (status, body["error"]) == (401, "unauthorized")
    # the admin may learn that a session does not exist
    assert await ws_close(f"{ws}/no-such-session?token={TOKEN}") == 4404
    status, _ = get(f"{shared_hub.base}/api/sessions/nope", {"Authorization": f"Bearer {TOKEN}"})
    assert status == 404
