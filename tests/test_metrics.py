"""GET /metrics: Prometheus' text format with counters from the hot paths and gauges read at
scrape time (the app in process)."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from pycrdt import Doc, Text
from starlette.testclient import TestClient

from collabd.api.app import create_app
from collabd.settings import Settings
from collabd.sync import protocol

TOKEN = "admin-" + "m" * 40


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return found


def test_metrics_count_updates_and_read_the_hub(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, data=tmp_path / ".collabd", token=TOKEN)
    with TestClient(create_app(settings)) as client:
        auth = {"Authorization": f"Bearer {TOKEN}"}
        s = client.post("/api/sessions", json={"path": "m.ipynb"}, headers=auth).json()
        before = samples(client.get("/metrics").text)
        url = f"/ws/{s['id']}?token={s['edit_token']}"
        with (
            client.websocket_connect(url) as editor,
            client.websocket_connect(f"/ws/{s['id']}?token={s['view_token']}") as viewer,
        ):
            editor.receive_bytes()  # sync step 1 from the hub
            viewer.receive_bytes()
            doc: Doc = Doc()
            doc["t"] = text = Text()
            text += "hello"
            editor.send_bytes(protocol.update(doc.get_update()))
            viewer.receive_bytes()  # the update reached the viewer: it was stored and sent
            got = samples(client.get("/metrics").text)
        assert got[("collabd_rooms_loaded", ())] == 1
        assert got[("collabd_sessions", ())] == 1
        assert got[("collabd_connections", (("role", "edit"),))] == 1
        assert got[("collabd_connections", (("role", "view"),))] == 1
        key = ("collabd_updates_in_total", (("origin", "peer"),))
        assert got[key] - before.get(key, 0) == 1
        assert got[("collabd_fanout_seconds_count", ())] > before.get(
            ("collabd_fanout_seconds_count", ()), 0
        )
        frames = ("collabd_frames_out_total", ())
        assert got[frames] > before.get(frames, 0)
        text = client.get("/metrics").text  # aggregates only: nothing that names a session
        assert s["id"] not in text and s["edit_token"] not in text


def test_a_metrics_token_is_required_when_set(tmp_path: Path) -> None:
    settings = Settings(root=tmp_path, data=tmp_path / ".d", token=TOKEN, metrics_token="m" * 43)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metrics").status_code == 401
        admin = {"Authorization": f"Bearer {TOKEN}"}  # the admin token is not the metrics token
        assert client.get("/metrics", headers=admin).status_code == 401
        ok = client.get("/metrics", headers={"Authorization": "Bearer " + "m" * 43})
        assert ok.status_code == 200 and "collabd_rooms_loaded" in ok.text
