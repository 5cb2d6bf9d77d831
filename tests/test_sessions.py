"""Sessions over HTTP against a real hub process."""

from __future__ import annotations

import json

from collabd.client import NotebookClient

from .conftest import HubProcess


def test_create_session_returns_links_and_is_idempotent_per_path(hub: HubProcess) -> None:
    first = hub.create_session("a.ipynb")
    assert {"id", "edit_token", "view_token", "edit_url", "view_url", "ws_url"} <= first.keys()
    assert first["edit_url"].endswith(f"/s/{first['id']}#token={first['edit_token']}")
    assert len(first["edit_token"]) >= 32 and first["edit_token"] != first["view_token"]
    status, again = hub.api("POST", "/api/sessions", {"path": "./a.ipynb"})
    assert status == 200 and again["id"] == first["id"]
    assert (hub.root / "a.ipynb").exists()


def test_admin_lists_sessions_others_cannot(hub: HubProcess) -> None:
    s = hub.create_session("a.ipynb")
    status, listed = hub.api("GET", "/api/sessions")
    assert status == 200 and [x["id"] for x in listed] == [s["id"]]
    status, body = hub.api("GET", "/api/sessions", token=s["edit_token"])
    assert status == 401 and body["error"] == "unauthorized"


def test_bad_paths_are_refused(hub: HubProcess) -> None:
    (hub.root / "not.ipynb").write_text("this is not json")
    (hub.root / "dir.ipynb").mkdir()
    for path in [
        "../x.ipynb",
        "/etc/passwd.ipynb",
        "a.txt",
        "",
        "not.ipynb",
        "dir.ipynb",
        "nodir/x.ipynb",
    ]:
        status, body = hub.api("POST", "/api/sessions", {"path": path})
        assert status == 400, (path, body)
        assert body["error"] == "bad_path" and body["detail"]
    status, body = hub.api("POST", "/api/sessions", {"path": 5})
    assert status == 400


def test_create_needs_admin_token(hub: HubProcess) -> None:
    status, body = hub.api("POST", "/api/sessions", {"path": "a.ipynb"}, token="wrong")
    assert status == 401 and body["error"] == "unauthorized"
    assert not (hub.root / "a.ipynb").exists()


def test_malformed_and_oversized_bodies(hub: HubProcess) -> None:
    import urllib.request

    req = urllib.request.Request(f"{hub.base}/api/sessions", data=b"{nope", method="POST")
    req.add_header("Authorization", f"Bearer {hub.token}")
    try:
        urllib.request.urlopen(req)
    except urllib.error.HTTPError as err:
        assert err.code == 400 and json.loads(err.read())["error"] == "bad_json"
    big = json.dumps({"path": "a" * (2 * 1024 * 1024)}).encode()
    req = urllib.request.Request(f"{hub.base}/api/sessions", data=big, method="POST")
    req.add_header("Authorization", f"Bearer {hub.token}")
    try:
        urllib.request.urlopen(req)
        raise AssertionError("expected 413")
    except urllib.error.HTTPError as err:
        assert err.code == 413


def test_session_info_by_role(hub: HubProcess) -> None:
    s = hub.create_session("a.ipynb")
    status, info = hub.api("GET", f"/api/sessions/{s['id']}", token=s["view_token"])
    assert status == 200 and info["role"] == "view" and "edit_url" not in info
    assert "edit_token" not in json.dumps(info) and s["edit_token"] not in json.dumps(info)
    status, info = hub.api("GET", f"/api/sessions/{s['id']}", token=s["edit_token"])
    assert info["role"] == "edit" and info["edit_url"] == s["edit_url"]
    status, _body = hub.api("GET", "/api/sessions/nope", token=s["edit_token"])
    assert status == 401  # a wrong token cannot tell unknown sessions apart (finding 11)


async def test_links_survive_restart(hub: HubProcess) -> None:
    s = hub.create_session("a.ipynb")
    hub.stop()
    hub.start()
    async with NotebookClient.from_link(s["edit_url"]) as client:
        assert len(client.cells()) == 1
    status, nb = hub.api("GET", f"/api/sessions/{s['id']}/notebook", token=s["view_token"])
    assert status == 200 and nb["nbformat"] == 4
