"""The recording routes' access rules and the replay app, in process."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from collabd.api.app import create_replay_app
from collabd.api.errors import ApiError
from collabd.api.sources import answering
from collabd.api.web import FRAME_HEADERS
from collabd.recording.file import open_recording
from collabd.recording.offload import Rebuilds
from collabd.store import SQLiteStore
from tests.support.inproc import AppFactory, InProcHub

READS = ["/recording", "/runs", "/recording/events", "/recording/notebook"]


def test_recording_reads_need_a_token(app: InProcHub) -> None:
    s = app.create_session("t.ipynb")
    with app.peer(s) as editor:  # something to read back
        editor.set_source(editor.cell_ids()[0], "x = 1")
        editor.wait_for(lambda: "x = 1" in str(app.notebook(s)))
    for path in READS:
        assert app.request("GET", f"/api/sessions/{s['id']}{path}", token="bad").status_code == 401
        missing = app.request("GET", f"/api/sessions/nope{path}", token=s["view_token"])
        assert missing.status_code in (401, 404)
        ok = app.request("GET", f"/api/sessions/{s['id']}{path}", token=s["view_token"])
        assert ok.status_code == 200, (path, ok.text)


def test_fork_and_retention_need_the_right_token(app: InProcHub) -> None:
    s = app.create_session("f.ipynb")
    status, body = app.api("POST", f"/api/sessions/{s['id']}/fork", {"t": 1}, s["view_token"])
    assert status == 403 and body["error"] == "forbidden"
    status, body = app.api("POST", f"/api/sessions/{s['id']}/fork", {"t": "x"}, s["edit_token"])
    assert status == 400
    status, body = app.api("POST", "/api/retention", {}, token=s["edit_token"])
    assert status == 401


def test_the_replay_app_serves_a_file_read_only(app: InProcHub, tmp_path: Path) -> None:
    s = app.create_session("r.ipynb")
    with app.peer(s) as editor:
        editor.set_source(editor.cell_ids()[0], "shown = 1")
        editor.wait_for(lambda: "shown = 1" in str(app.notebook(s)))
    export = app.request("GET", f"/api/sessions/{s['id']}/recording/export", token=s["view_token"])
    assert export.status_code == 200
    file = tmp_path / "r.collabd"
    file.write_bytes(export.content)
    replay_app = create_replay_app(open_recording(file), "replay-token")
    auth = {"Authorization": "Bearer replay-token"}
    with TestClient(replay_app) as client:
        summary = client.get(f"/api/sessions/{s['id']}/recording", headers=auth)
        assert summary.status_code == 200 and summary.json()["counts"]["updates"] > 0
        info = client.get(f"/api/sessions/{s['id']}", headers=auth).json()
        assert info["replay"] is True and info["role"] == "view"
        wrong = client.get(f"/api/sessions/{s['id']}/recording", headers={"Authorization": "x"})
        assert wrong.status_code == 401
        fork = client.post(f"/api/sessions/{s['id']}/fork", json={"t": 1}, headers=auth)
        assert fork.status_code == 403
        # a file carries no seek index: the replay builds it in its working copy, and until
        # it reaches a moment a player asking for it is told so (and loads the recorded
        # document instead)
        end = summary.json()["end"]
        first = summary.json()["seek_index"]
        assert first["behind"] > 0 or first["until"] is not None

        def quick() -> Any:
            return client.get(
                f"/api/sessions/{s['id']}/recording/notebook?t={end}&indexed=1", headers=auth
            )

        answer = quick()
        assert answer.status_code == 200 or answer.json()["error"] == "not_indexed"
        deadline = time.monotonic() + 60
        while answer.status_code != 200:
            assert time.monotonic() < deadline, "the replay never indexed its working copy"
            time.sleep(0.1)
            answer = quick()
        assert "shown = 1" in str(answer.json()["cells"])
        again = client.get(f"/api/sessions/{s['id']}/recording", headers=auth).json()
        assert again["seek_index"]["behind"] == 0 and again["seek_index"]["bytes"] > 0
        whole = client.get(f"/api/sessions/{s['id']}/recording/notebook?t={end}", headers=auth)
        assert whole.status_code == 200 and "shown = 1" in str(whole.json()["cells"])
        assert file.read_bytes() == export.content  # the file itself is never written
        created = client.post("/api/sessions", json={"path": "x.ipynb"}, headers=auth)
        assert created.status_code == 404  # no session API in a replay
        frame = client.get("/frame")
        assert frame.status_code == 200
        assert frame.headers["content-security-policy"] == FRAME_HEADERS["Content-Security-Policy"]
        page = client.get(f"/s/{s['id']}/replay")
        assert page.status_code == 200, page.text  # the suite builds the client first
        assert client.get(f"/s/{s['id']}").status_code == 404  # no live page in a replay


def test_the_hub_rebuilds_a_recorded_notebook_in_its_worker(app: InProcHub) -> None:
    s = app.create_session("w.ipynb")
    with app.peer(s) as editor:
        editor.set_source(editor.cell_ids()[0], "rebuilt = 1")
        editor.wait_for(lambda: "rebuilt = 1" in str(app.notebook(s)))
    got = app.request("GET", f"/api/sessions/{s['id']}/recording/notebook", token=s["view_token"])
    assert got.status_code == 200 and "rebuilt = 1" in got.json()["cells"][0]["source"]
    worker = app.hub.rebuilds.pid  # its reads that rebuild a document run there
    assert worker is not None and worker != os.getpid()
    app.stop()  # the hub's stop ends its worker
    with pytest.raises(ProcessLookupError):
        for _ in range(300):
            os.kill(worker, 0)
            time.sleep(0.05)


async def test_a_read_whose_worker_keeps_dying_is_a_503_and_the_next_is_answered(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "collabd.db")
    rebuilds = Rebuilds(store)
    run = answering(rebuilds)
    try:
        with pytest.raises(ApiError) as refused:
            await run(os._exit, 3)  # the read itself ends the worker, twice
        assert refused.value.status == 503 and "try again" in refused.value.detail
        assert await run(len, "next") == 4
    finally:
        await rebuilds.close()
        store.close()


def test_a_live_session_nobody_replays_starts_no_worker_until_opened(
    app_factory: AppFactory,
) -> None:
    """Snapshots alone do not start the recording worker (a live session costs nothing more
    while it runs); opening the recording starts it and indexes the room to its end, and from
    then on each snapshot keeps the index up to date."""
    app = app_factory(snapshot_every=5)
    s = app.create_session("live.ipynb")
    store = app.hub.store
    with app.peer(s) as editor:
        cell = editor.cell_ids()[0]
        for i in range(12):  # a snapshot every 5 updates
            editor.set_source(cell, f"x = {i}")
        editor.wait_for(lambda: "x = 11" in str(app.notebook(s)))
        assert len(store.snapshot_index(s["id"])) >= 2
        assert app.hub.rebuilds.pid is None and store.seek_index_end(s["id"]) is None

        summary = app.request("GET", f"/api/sessions/{s['id']}/recording", token=s["view_token"])
        assert summary.status_code == 200
        wait = time.monotonic() + 30
        while _behind(store, s["id"]) and time.monotonic() < wait:
            time.sleep(0.05)
        assert _behind(store, s["id"]) == 0 and app.hub.rebuilds.pid is not None

        before = store.seek_index_end(s["id"])
        for i in range(12, 24):  # the worker runs: snapshots carry the index on
            editor.set_source(cell, f"x = {i}")
        editor.wait_for(lambda: "x = 23" in str(app.notebook(s)))
        wait = time.monotonic() + 30
        while store.seek_index_end(s["id"]) == before and time.monotonic() < wait:
            time.sleep(0.05)
        assert store.seek_index_end(s["id"]) != before


def _behind(store: Any, room: str) -> int:
    end = store.seek_index_end(room)
    return int(store.count(room, after_seq=end[0] if end else 0))
