"""Structured logs: JSON lines carrying the request, the session and the node."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.support.hubproc import HubProcess

pytestmark = [pytest.mark.slow]


def test_json_logs_carry_request_and_session(hub_factory: object) -> None:
    hub: HubProcess = hub_factory(env={"COLLABD_LOG_FORMAT": "json"})  # type: ignore[operator]
    s = hub.create_session("logged.ipynb")
    req = urllib.request.Request(f"{hub.base}/api/sessions/{s['id']}/notebook")
    req.add_header("Authorization", f"Bearer {s['view_token']}")
    req.add_header("X-Request-Id", "trace-0042")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200
    lines = [line for line in hub.log().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records, hub.log()
    assert all({"ts", "level", "logger", "message", "node"} <= set(r) for r in records)
    mine = [r for r in records if r.get("request") == "trace-0042"]
    assert mine and all(r["session"] == s["id"] for r in mine if "notebook" in r["message"])
    assert any(s["id"] in r["message"] and r["logger"] == "uvicorn.access" for r in mine)
    # tokens never reach the logs, in any format
    assert s["view_token"] not in hub.log() and s["edit_token"] not in hub.log()
