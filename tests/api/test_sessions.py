"""Sessions over HTTP, against the app in process."""

from __future__ import annotations

import json

import nbformat

from tests.support.inproc import InProcHub


def test_create_session_returns_links_and_is_idempotent_per_path(app: InProcHub) -> None:
    first = app.create_session("a.ipynb")
    status, created = app.api("POST", "/api/sessions", {"path": "b.ipynb"})
    assert status == 201 and created["path"] == "b.ipynb"
    assert {"id", "edit_token", "view_token", "edit_url", "view_url", "ws_url"} <= first.keys()
    assert first["edit_url"].endswith(f"/s/{first['id']}#token={first['edit_token']}")
    assert len(first["edit_token"]) >= 32 and first["edit_token"] != first["view_token"]
    status, again = app.api("POST", "/api/sessions", {"path": "./a.ipynb"})
    assert status == 200 and again["id"] == first["id"]
    assert (app.root / "a.ipynb").exists()


def test_create_says_whether_the_file_was_created(app: InProcHub) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, app.root / "there.ipynb")
    status, opened = app.api("POST", "/api/sessions", {"path": "there.ipynb"})
    assert status == 201 and opened["created_file"] is False  # a new session, the file kept
    status, made = app.api("POST", "/api/sessions", {"path": "new.ipynb"})
    assert status == 201 and made["created_file"] is True
    assert (app.root / "new.ipynb").is_file()
    status, again = app.api("POST", "/api/sessions", {"path": "new.ipynb"})
    assert status == 200 and again["id"] == made["id"] and again["created_file"] is False


def test_admin_lists_sessions_others_cannot(app: InProcHub) -> None:
    s = app.create_session("a.ipynb")
    status, listed = app.api("GET", "/api/sessions")
    assert status == 200 and [x["id"] for x in listed] == [s["id"]]
    status, body = app.api("GET", "/api/sessions", token=s["edit_token"])
    assert status == 401 and body["error"] == "unauthorized"


def test_bad_paths_are_refused(app: InProcHub) -> None:
    (app.root / "not.ipynb").write_text("this is not json")
    (app.root / "dir.ipynb").mkdir()
    for path in [
        "../x.ipynb",
        "/etc/passwd.ipynb",
        "a.txt",
        "",
        "not.ipynb",
        "dir.ipynb",
        "nodir/x.ipynb",
    ]:
        status, body = app.api("POST", "/api/sessions", {"path": path})
        assert status == 400, (path, body)
        assert body["error"] == "bad_path" and body["detail"]
    status, body = app.api("POST", "/api/sessions", {"path": 5})
    assert status == 400
    assert app.api("GET", "/api/sessions")[1] == []


def test_create_needs_admin_token(app: InProcHub) -> None:
    status, body = app.api("POST", "/api/sessions", {"path": "a.ipynb"}, token="wrong")
    assert status == 401 and body["error"] == "unauthorized"
    response = app.client.post("/api/sessions", json={"path": "a.ipynb"})  # no token at all
    assert response.status_code == 401
    assert not (app.root / "a.ipynb").exists()


def test_malformed_and_oversized_bodies(app: InProcHub) -> None:
    response = app.request("POST", "/api/sessions", content=b"{nope")
    assert response.status_code == 400 and response.json()["error"] == "bad_json"
    big = json.dumps({"path": "a" * (2 * 1024 * 1024)}).encode()
    response = app.request("POST", "/api/sessions", content=big)
    assert response.status_code == 413
    assert app.api("GET", "/api/sessions")[1] == []


def test_session_info_by_role(app: InProcHub) -> None:
    s = app.create_session("a.ipynb")
    status, info = app.api("GET", f"/api/sessions/{s['id']}", token=s["view_token"])
    assert status == 200 and info["role"] == "view" and "edit_url" not in info
    assert "edit_token" not in json.dumps(info) and s["edit_token"] not in json.dumps(info)
    status, info = app.api("GET", f"/api/sessions/{s['id']}", token=s["edit_token"])
    assert status == 200 and info["role"] == "edit" and info["edit_url"] == s["edit_url"]
    status, _body = app.api("GET", "/api/sessions/nope", token=s["edit_token"])
    assert status == 401  # a wrong token cannot tell unknown sessions apart (finding 11)


def test_links_survive_a_restart(app: InProcHub) -> None:
    s = app.create_session("a.ipynb")
    with app.peer(s) as editor:
        editor.set_source(editor.cell_ids()[0], "kept = 1")
        editor.wait_for(lambda: "kept = 1" in json.dumps(app.notebook(s)), timeout=30)
    app.restart()  # a new app on the same root and SQLite file
    with app.peer(s, s["view_token"]) as viewer:
        assert [c["source"] for c in viewer.cells()] == ["kept = 1"]
    status, nb = app.api("GET", f"/api/sessions/{s['id']}/notebook", token=s["view_token"])
    assert status == 200 and nb["nbformat"] == 4


def test_health(app: InProcHub) -> None:
    response = app.client.get("/api/health")  # no token needed
    assert response.status_code == 200 and response.json()["rooms"] == 0
    s = app.create_session("a.ipynb")
    with app.peer(s):
        assert app.client.get("/api/health").json()["rooms"] == 1
