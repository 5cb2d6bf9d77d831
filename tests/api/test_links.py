"""Named links, in process: made, listed, revoked (connections cut with 4410 at once), the
anonymous links rotated, expiry, deleting a session, and who the hub says a participant is."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

import pytest

from collabd.store import Store
from collabd.store.base import EVENT
from collabd.sync.wire import Close
from tests.support.inproc import Closed, InProcHub, Peer, until_closed


def make_link(
    app: InProcHub,
    s: dict[str, Any],
    name: str,
    role: str = "edit",
    token: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    status, body = app.api(
        "POST", f"/api/sessions/{s['id']}/links", {"name": name, "role": role, **extra}, token
    )
    assert status == 201, body
    return dict(body)


def links_of(app: InProcHub, s: dict[str, Any]) -> list[dict[str, Any]]:
    status, body = app.api("GET", f"/api/sessions/{s['id']}/links")
    assert status == 200, body
    return list(body["links"])


def store_of(app: InProcHub) -> Store:
    return app.hub.store


def joins(app: InProcHub, session_id: str) -> list[dict[str, Any]]:
    app.call(app.hub.loaded(session_id).flush)  # type: ignore[union-attr]
    events = store_of(app).entries(session_id, kinds=(EVENT,))
    return [json.loads(e.data) for e in events if e.origin == "join"]


def wait_closed(peer: Peer, timeout: float = 10.0) -> Closed:
    with pytest.raises(Closed) as closed:
        peer.wait_for(lambda: False, timeout)
    return closed.value


def test_a_named_link_is_made_shown_once_and_listed_without_its_token(app: InProcHub) -> None:
    s = app.create_session()
    made = make_link(app, s, "Ada Lovelace", "edit", expires_in_s=3600)
    assert set(made) == {"id", "name", "role", "created", "expires", "url", "token"}
    assert made["url"].endswith(f"/s/{s['id']}#token={made['token']}")
    assert made["expires"] == pytest.approx(time.time() + 3600, abs=5)
    (listed,) = links_of(app, s)
    assert listed["id"] == made["id"] and listed["name"] == "Ada Lovelace"
    assert listed["status"] == "active" and listed["last_seen"] is None
    assert made["token"] not in json.dumps(listed) and "hash" not in json.dumps(listed)
    # The named link works for what its role allows, and says whose it is.
    status, info = app.api("GET", f"/api/sessions/{s['id']}", token=made["token"])
    assert status == 200 and info["role"] == "edit"
    assert info["link"] == {
        "id": made["id"],
        "name": "Ada Lovelace",
        "role": "edit",
        "expires": made["expires"],
    }
    # Never the anonymous edit link: revoking this one must shut its holder out.
    assert "edit_token" not in info and "edit_url" not in info
    assert s["edit_token"] not in json.dumps(info)


@pytest.mark.parametrize(
    "body",
    [
        {"role": "edit"},
        {"name": "", "role": "edit"},
        {"name": "x" * 65, "role": "edit"},
        {"name": "a\u202eb", "role": "edit"},
        {"name": "Ada", "role": "admin"},
        {"name": "Ada", "role": "edit", "expires_in_s": 0},
        {"name": "Ada", "role": "edit", "expires_in_s": "soon"},
        {"name": "Ada", "role": "edit", "expires_in_s": True},
    ],
)
def test_bad_link_requests_are_refused(app: InProcHub, body: dict[str, Any]) -> None:
    s = app.create_session()
    status, answer = app.api("POST", f"/api/sessions/{s['id']}/links", body)
    assert status == 422 and answer["error"] == "bad_request"


def test_who_may_manage_links(app: InProcHub) -> None:
    s = app.create_session()
    viewer = make_link(app, s, "Vic", "view")
    editor = make_link(app, s, "Eve", "edit", token=s["edit_token"])  # anonymous edit: owner
    base = f"/api/sessions/{s['id']}/links"
    for token in (s["view_token"], viewer["token"]):
        assert app.api("POST", base, {"name": "x", "role": "view"}, token)[0] == 403
        assert app.api("GET", base, token=token)[0] == 403
        assert app.api("DELETE", f"{base}/{editor['id']}", token=token)[0] == 403
        assert app.api("POST", f"{base}/rotate", {"role": "view"}, token)[0] == 403
    assert app.api("GET", base, token="wrong")[0] == 401
    # A named editor is an owner too; what it makes is marked as made with it.
    made = make_link(app, s, "Bot", "view", token=editor["token"])
    by_id = {link["id"]: link for link in links_of(app, s)}
    assert by_id[made["id"]]["created_by"] == editor["id"]
    assert by_id[editor["id"]]["created_by"] is None
    # The query string never carries a token that may change things.
    assert app.client.post(f"{base}?token={s['edit_token']}", json={}).status_code == 401
    assert app.api("DELETE", f"{base}/nope")[0] == 404


def test_presence_and_join_carry_the_links_name_whatever_the_client_says(
    app: InProcHub,
) -> None:
    s = app.create_session()
    ada = make_link(app, s, "Ada")
    with app.peer(s, name="anon") as watcher, app.peer(s, ada["token"], name="Mallory") as peer:
        watcher.wait_for(lambda: peer.client_id in watcher.others())
        shown = watcher.others()[peer.client_id]["user"]
        assert shown["name"] == "Ada" and shown["verified"] is True
        peer.set_presence(user={"name": "Grace Hopper", "verified": False}, cursor=1)
        watcher.wait_for(lambda: watcher.others()[peer.client_id].get("cursor") == 1)
        assert watcher.others()[peer.client_id]["user"] == {"name": "Ada", "verified": True}
        # An anonymous participant cannot look verified.
        watcher.set_presence(user={"name": "Ada", "verified": True})
        peer.wait_for(
            lambda: peer.others().get(watcher.client_id, {}).get("user", {}).get("name") == "Ada"
        )
        assert "verified" not in peer.others()[watcher.client_id]["user"]
        # The hub's own presence state holds what it relays (newcomers get the same).
        held = app.hub.loaded(s["id"]).room.presence()[peer.client_id]  # type: ignore[union-attr]
        assert held["user"] == {"name": "Ada", "verified": True}
        recorded = joins(app, s["id"])
    assert {"access": "edit", "link": ada["id"], "link_name": "Ada"}.items() <= recorded[-1].items()
    assert "link" not in recorded[0] and recorded[0]["access"] == "edit"
    (listed,) = links_of(app, s)
    assert listed["last_seen"] == pytest.approx(time.time(), abs=30)


def test_revoking_cuts_the_connected_holder_off_at_once_and_for_good(app: InProcHub) -> None:
    s = app.create_session()
    eve = make_link(app, s, "Eve")
    minted = make_link(app, s, "Eve's bot", "view", token=eve["token"])
    bob = make_link(app, s, "Bob")
    with (
        app.peer(s, eve["token"], name="eve") as cut,
        app.peer(s, minted["token"], name="bot") as also_cut,
        app.peer(s, bob["token"], name="bob") as stays,
    ):
        status, body = app.api("DELETE", f"/api/sessions/{s['id']}/links/{eve['id']}")
        assert status == 200, body
        assert body["status"] == "revoked" and body["closed"] == 2
        assert sorted(body["revoked_links"]) == sorted([eve["id"], minted["id"]])
        for peer in (cut, also_cut):
            closed = wait_closed(peer)
            assert closed.code == Close.LINK_REVOKED == 4410 and "revoked" in closed.reason
        stays.insert_cell(0, "print('still here')")  # the others go on
        deadline = time.monotonic() + 10
        while "still here" not in json.dumps(app.notebook(s)):
            assert time.monotonic() < deadline, "the edit of a participant still there was lost"
            stays.drain()
            time.sleep(0.05)
        assert stays.close is None
    for token in (eve["token"], minted["token"]):
        status, answer = app.api("GET", f"/api/sessions/{s['id']}", token=token)
        assert status == 401 and answer["error"] == "link_revoked"
    status, _ = app.api(
        "POST",
        f"/api/sessions/{s['id']}/links",
        {"name": "me again", "role": "edit"},
        eve["token"],
    )
    assert status == 401
    with app.websocket(s["id"], eve["token"]) as ws:
        code, reason, frames = until_closed(ws)
    assert code == Close.LINK_REVOKED and "revoked" in reason and frames == []
    statuses = {link["id"]: link["status"] for link in links_of(app, s)}
    assert statuses == {eve["id"]: "revoked", minted["id"]: "revoked", bob["id"]: "active"}


def test_rotating_an_anonymous_link(app: InProcHub) -> None:
    s = app.create_session()
    named = make_link(app, s, "Ada")
    with (
        app.peer(s, name="anon") as anon,
        app.peer(s, s["view_token"], name="viewer") as viewer,
        app.peer(s, named["token"], name="ada") as ada,
    ):
        status, body = app.api("POST", f"/api/sessions/{s['id']}/links/rotate", {"role": "edit"})
        assert status == 200 and body["closed"] == 1, body
        assert body["token"] != s["edit_token"] and body["url"].endswith(body["token"])
        assert wait_closed(anon).code == Close.LINK_REVOKED
        ada.insert_cell(0, "x")
        viewer.wait_for(lambda: len(viewer.cell_ids()) >= 1)
        assert viewer.close is None and ada.close is None
    assert app.api("GET", f"/api/sessions/{s['id']}", token=s["edit_token"])[0] == 401
    status, info = app.api("GET", f"/api/sessions/{s['id']}", token=body["token"])
    assert status == 200 and info["edit_token"] == body["token"]
    assert info["view_token"] == s["view_token"]  # the other role's link is untouched
    with app.peer({**s, "edit_token": body["token"]}) as again:
        assert again.synced
    status, body = app.api(
        "POST", f"/api/sessions/{s['id']}/links/rotate", {"role": "view"}, named["token"]
    )
    assert status == 200
    assert app.api("GET", f"/api/sessions/{s['id']}", token=s["view_token"])[0] == 401


def test_an_expired_link_is_refused_and_its_connection_closed(app: InProcHub) -> None:
    s = app.create_session()
    brief = make_link(app, s, "Brief", "edit", expires_in_s=1.5)
    with app.peer(s, brief["token"], name="brief") as peer:
        closed = wait_closed(peer, timeout=15)
        assert closed.code == Close.UNAUTHORIZED and "expired" in closed.reason
    status, answer = app.api("GET", f"/api/sessions/{s['id']}", token=brief["token"])
    assert status == 401 and answer["error"] == "link_expired"
    with app.websocket(s["id"], brief["token"]) as ws:
        code, _, frames = until_closed(ws)
    assert code == Close.UNAUTHORIZED and frames == []
    assert links_of(app, s)[0]["status"] == "expired"


def test_deleting_a_session(app: InProcHub) -> None:
    s = app.create_session("gone.ipynb")
    keep = app.create_session("kept.ipynb")
    made = make_link(app, s, "Ada")
    make_link(app, keep, "Ada")
    # Only the admin may delete, and only the admin learns a session does not exist.
    for token in (s["edit_token"], made["token"]):
        assert app.api("DELETE", f"/api/sessions/{s['id']}", token=token)[0] == 401
    with app.peer(s, name="there") as peer:
        peer.insert_cell(0, "print(1)")
        status, body = app.api("DELETE", f"/api/sessions/{s['id']}")
        assert status == 200, body
        assert body == {"id": s["id"], "path": "gone.ipynb", "file_deleted": False}
        closed = wait_closed(peer)
        assert closed.code == Close.NOT_FOUND and "deleted" in closed.reason
    store = store_of(app)
    assert store.get_session(s["id"]) is None and store.links(s["id"]) == []
    assert store.entries(s["id"], kinds=("update", "awareness", "event")) == []
    assert store.latest_snapshot(s["id"]) is None
    assert (app.root / "gone.ipynb").exists()  # the file stays
    assert app.hub.loaded(s["id"]) is None
    assert app.api("GET", f"/api/sessions/{s['id']}")[0] == 404
    for token in (s["edit_token"], made["token"]):
        assert app.api("GET", f"/api/sessions/{s['id']}", token=token)[0] == 401
    assert app.api("DELETE", f"/api/sessions/{s['id']}")[0] == 404
    assert [x["id"] for x in app.api("GET", "/api/sessions")[1]] == [keep["id"]]
    assert len(store.links(keep["id"])) == 1
    # The path may be shared again: a new session, its file as it was saved.
    again = app.create_session("gone.ipynb")
    assert again["id"] != s["id"]
    status, body = app.api("DELETE", f"/api/sessions/{again['id']}?delete_file=1")
    assert status == 200 and body["file_deleted"] is True
    assert not (app.root / "gone.ipynb").exists()


def test_tokens_are_never_stored_in_clear_nor_logged(
    app: InProcHub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    s = app.create_session()
    made = make_link(app, s, "Ada")
    with app.peer(s, made["token"], name="ada"):
        pass
    app.api("DELETE", f"/api/sessions/{s['id']}/links/{made['id']}")
    app.api("GET", f"/api/sessions/{s['id']}", token=made["token"])
    app.call(app.hub.run_io, lambda: None)  # what was queued is written
    held = b"".join(p.read_bytes() for p in Path(app.data).rglob("*") if p.is_file())
    assert made["token"].encode() not in held
    assert f"link {made['id']} revoked" in caplog.text  # the log does say what happened
    assert made["token"] not in caplog.text
