"""Signed-in users, in process, signed in by a trusted proxy's header (the app sees requests
from 127.0.0.1, a configured proxy): sessions they create are theirs, sharing with users (and
groups' grants through the store), the owner role, who a user is on presence and chat, and
taking access away (connections closed with 4410)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from collabd.api.access import resolve_user
from collabd.auth import User
from collabd.store import GrantRecord
from collabd.sync.wire import Close
from tests.support.inproc import Closed, InProcHub, Peer

HEADER = "X-Auth-Request-User"


@pytest.fixture
def app(tmp_path: Path) -> Iterator[InProcHub]:
    hub = InProcHub(
        tmp_path / "root",
        tmp_path / "data",
        peer=("127.0.0.1", 40000),
        trusted_user_header=HEADER,
        trusted_proxies=("127.0.0.1/32",),
        admin_users=("root",),
    ).start()
    yield hub
    hub.stop()


def as_user(
    app: InProcHub, user: str | None, method: str, path: str, body: Any = None, **headers: str
) -> httpx.Response:
    sent = {HEADER: user} if user is not None else {}
    return app.client.request(method, path, json=body, headers={**sent, **headers})


@contextmanager
def joined(app: InProcHub, session_id: str, user: str) -> Iterator[Peer]:
    with app.client.websocket_connect(f"/ws/{session_id}", headers={HEADER: user}) as ws:
        peer = Peer(ws, user)
        peer.join()
        yield peer


def made_by(app: InProcHub, user: str, path: str = "nb.ipynb") -> dict[str, Any]:
    response = as_user(app, user, "POST", "/api/sessions", {"path": path})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_me_says_who_is_signed_in(app: InProcHub) -> None:
    me = as_user(app, "alice", "GET", "/api/me").json()
    assert (me["user"], me["admin"], me["can_create"]) == ("alice", False, True)
    assert me["signin"] == {"jupyterhub": False, "header": True}
    assert as_user(app, "root", "GET", "/api/me").json()["admin"] is True
    assert as_user(app, None, "GET", "/api/me").json()["user"] is None


def test_a_user_owns_what_they_create_and_sees_only_what_is_shared_with_them(
    app: InProcHub,
) -> None:
    mine = made_by(app, "alice", "mine.ipynb")
    assert mine["role"] == "owner" and mine["owner"] is True and mine["created_file"] is True
    assert mine["url"].endswith(f"/s/{mine['id']}") and "edit_token" in mine
    theirs = made_by(app, "carol", "theirs.ipynb")
    listed = as_user(app, "alice", "GET", "/api/sessions").json()
    assert [(s["id"], s["role"]) for s in listed] == [(mine["id"], "owner")]
    assert as_user(app, "bob", "GET", "/api/sessions").json() == []
    # Another's session: as if it did not exist, and its links are not given away.
    assert as_user(app, "alice", "GET", f"/api/sessions/{theirs['id']}").status_code == 401
    again = as_user(app, "alice", "POST", "/api/sessions", {"path": "theirs.ipynb"})
    assert again.status_code == 403 and "edit_token" not in again.text
    # collabd's admins see every session; the admin token still does.
    assert len(as_user(app, "root", "GET", "/api/sessions").json()) == 2
    assert len(app.api("GET", "/api/sessions")[1]) == 2
    # Nobody signed in, or a header from nowhere special: 401.
    assert as_user(app, None, "GET", "/api/sessions").status_code == 401


def test_an_editor_who_is_not_an_owner_cannot_manage_links_or_grants(app: InProcHub) -> None:
    s = made_by(app, "alice")
    sid = s["id"]
    granted = as_user(app, "alice", "POST", f"/api/sessions/{sid}/grants",
                      {"user": "bob", "role": "edit"})  # fmt: skip
    assert granted.status_code == 201, granted.text
    assert granted.json() | {"created": 0} == {
        "user": "bob", "role": "edit", "created": 0, "created_by": "alice", "closed": 0,
    }  # fmt: skip
    bob = as_user(app, "bob", "GET", f"/api/sessions/{sid}").json()
    assert bob["role"] == "edit" and bob["owner"] is False and "edit_token" not in bob
    for method, path, body in [
        ("POST", "grants", {"user": "eve", "role": "owner"}),
        ("GET", "grants", None),
        ("DELETE", "grants/users/alice", None),
        ("POST", "links", {"name": "Eve", "role": "edit"}),
        ("GET", "links", None),
        ("POST", "links/rotate", {"role": "edit"}),
    ]:
        refused = as_user(app, "bob", method, f"/api/sessions/{sid}/{path}", body)
        assert refused.status_code == 403, (method, path, refused.text)
    # Once sign-in is configured, the anonymous edit link edits but owns nothing either.
    assert app.api("GET", f"/api/sessions/{sid}/links", token=s["edit_token"])[0] == 403
    assert app.api("GET", f"/api/sessions/{sid}", token=s["edit_token"])[0] == 200
    # The owner can; the admin token can.
    link = {"name": "Eve", "role": "view"}
    assert as_user(app, "alice", "POST", f"/api/sessions/{sid}/links", link).status_code == 201
    assert app.api("GET", f"/api/sessions/{sid}/grants")[1]["grants"][1]["user"] == "bob"
    # An owner made by a grant is an owner.
    as_user(app, "alice", "POST", f"/api/sessions/{sid}/grants", {"user": "bob", "role": "owner"})
    assert as_user(app, "bob", "GET", f"/api/sessions/{sid}/links").status_code == 200


def test_grants_are_checked(app: InProcHub) -> None:
    sid = made_by(app, "alice")["id"]
    base = f"/api/sessions/{sid}/grants"
    for body in [
        {"user": "bob", "role": "admin"},
        {"user": "", "role": "edit"},
        {"user": "bob", "group": "x", "role": "edit"},
        {"role": "edit"},
        {"user": "a\x00b", "role": "edit"},
    ]:
        answer = as_user(app, "alice", "POST", base, body)
        assert answer.status_code == 422 and answer.json()["error"] == "bad_request", body
    assert as_user(app, "alice", "DELETE", f"{base}/users/nobody").status_code == 404
    assert as_user(app, "alice", "DELETE", f"{base}/teams/x").status_code == 404
    # A change signed in by a proxy's or hub's cookie comes from our own page only.
    evil = as_user(app, "alice", "POST", base, {"user": "bob", "role": "edit"},
                   origin="http://evil.example")  # fmt: skip
    assert evil.status_code == 403


def test_a_group_grant_lets_its_members_in(app: InProcHub) -> None:
    sid = made_by(app, "alice")["id"]
    grant = GrantRecord(sid, "group", "physics", "view", time.time(), "alice")
    app.hub.store.put_grant(grant)
    _, member = app.call(resolve_user, app.hub, sid, User("dan", groups=("physics",)))
    _, other = app.call(resolve_user, app.hub, sid, User("dan", groups=("chemistry",)))
    assert member is not None and str(member.access) == "view" and other is None


def test_a_users_identity_is_the_signed_in_name_and_taking_access_away_closes_them(
    app: InProcHub,
) -> None:
    sid = made_by(app, "alice")["id"]
    as_user(app, "alice", "POST", f"/api/sessions/{sid}/grants", {"user": "bob", "role": "edit"})
    with joined(app, sid, "alice") as alice, joined(app, sid, "bob") as bob:
        alice.wait_for(lambda: bob.client_id in alice.others())
        bob.set_presence(user={"name": "Mallory", "verified": False}, cursor=3)
        alice.wait_for(lambda: alice.others()[bob.client_id].get("cursor") == 3)
        assert alice.others()[bob.client_id]["user"] == {"name": "bob", "verified": True}
        said = as_user(app, "bob", "POST", f"/api/sessions/{sid}/chat",
                       {"text": "hi", "name": "Mallory"})  # fmt: skip
        assert said.status_code == 201, said.text
        assert said.json()["message"]["by"] == {
            "name": "bob", "client_id": None, "verified": True, "user": "bob",
        }  # fmt: skip
        gone = as_user(app, "alice", "DELETE", f"/api/sessions/{sid}/grants/users/bob")
        assert gone.status_code == 200 and gone.json()["closed"] == 1
        with pytest.raises(Closed) as closed:
            bob.wait_for(lambda: False, 10.0)
        assert closed.value.code == Close.LINK_REVOKED
        alice.set_presence(cursor=5)  # alice stays
    assert as_user(app, "bob", "GET", f"/api/sessions/{sid}").status_code == 401
    with app.client.websocket_connect(f"/ws/{sid}", headers={HEADER: "bob"}) as ws:
        message = ws.receive()
        assert message["type"] == "websocket.close" and message["code"] == Close.UNAUTHORIZED


def test_without_trusted_proxies_the_header_is_ignored(tmp_path: Path) -> None:
    app = InProcHub(
        tmp_path / "root", tmp_path / "data", peer=("127.0.0.1", 40000),
        trusted_user_header=HEADER,
    ).start()  # fmt: skip
    try:
        sid = app.create_session()["id"]
        assert as_user(app, "alice", "GET", "/api/me").json()["user"] is None
        assert as_user(app, "alice", "GET", f"/api/sessions/{sid}").status_code == 401
        created = as_user(app, "alice", "POST", "/api/sessions", {"path": "x.ipynb"})
        assert created.status_code == 401
    finally:
        app.stop()


def test_kernel_hosts_are_for_users_who_may_edit_something(app: InProcHub) -> None:
    sid = made_by(app, "alice")["id"]
    as_user(app, "alice", "POST", f"/api/sessions/{sid}/grants", {"user": "vi", "role": "view"})
    assert as_user(app, "alice", "GET", "/api/kernel-hosts").status_code == 200
    assert as_user(app, "vi", "GET", "/api/kernel-hosts").status_code == 403
    assert as_user(app, None, "GET", "/api/kernel-hosts").status_code == 401
