"""Finding 8: hostile input gets a JSON 4xx, and any bug of ours a JSON 500 that is logged."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from collabd.api.app import create_app
from collabd.settings import Settings
from tests.support.hubproc import TOKEN, HubProcess

pytestmark = [pytest.mark.slow]


def call(
    hub: HubProcess, method: str, path: str, body: bytes | None, token: str
) -> tuple[int, Any]:
    req = urllib.request.Request(f"{hub.base}{path}", data=body, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, raw, kind = resp.status, resp.read(), resp.headers["content-type"]
    except urllib.error.HTTPError as err:
        status, raw, kind = err.code, err.read(), err.headers["content-type"]
    assert kind.startswith("application/json"), (status, kind, raw[:200])
    return status, json.loads(raw)


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"path": "a" * 300 + ".ipynb"}).encode(),
        json.dumps({"path": "d/" * 600 + "x.ipynb"}).encode(),
        b"[" * 100_000 + b"]" * 100_000,
        b'{"path": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"path": "\\ud800.ipynb"}',
    ],
)
def test_hostile_session_bodies_get_json_4xx(shared_hub: HubProcess, body: bytes) -> None:
    status, reply = call(shared_hub, "POST", "/api/sessions", body, TOKEN)
    assert 400 <= status < 500, reply
    assert reply["error"] and reply["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/recording/events?updates=1&after_seq=99999999999999999999", None),
        ("GET", "/recording/events?updates=1&base=rebuilt", None),
        ("GET", "/recording/events?updates=1&limit=0", None),
        ("GET", "/recording/events?updates=1&limit=20001", None),
        ("GET", "/recording/events?updates=1&limit=-5", None),
        ("GET", "/recording/events?from=1e300", None),
        ("GET", "/recording/notebook?t=1e20&download=1", None),
        ("POST", "/fork", b'{"t": 1e20}'),
        ("POST", "/fork", b'{"t": -1e20}'),
    ],
)
def test_hostile_recording_queries_get_json_4xx(
    shared_hub: HubProcess, method: str, path: str, body: bytes | None
) -> None:
    s = shared_hub.create_session("errors.ipynb")
    url = f"/api/sessions/{s['id']}{path}"
    status, reply = call(shared_hub, method, url, body, s["edit_token"])
    assert status == 400, reply


async def test_an_unexpected_exception_is_json_500_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(token="t", root=tmp_path, data=tmp_path / "data")
    app = create_app(settings)

    async def boom(request: Request) -> Response:
        raise KeyError("a bug")

    app.add_route("/api/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR):
        async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
            reply = await client.get("/api/boom")
    app.state.hub.store.close()
    assert reply.status_code == 500
    assert reply.headers["content-type"].startswith("application/json")
    assert reply.json()["error"] == "internal" and "KeyError" in reply.json()["detail"]
    assert any("GET /api/boom failed" in r.getMessage() for r in caplog.records)
