"""Issue 12: the anonymous links' tokens are derived from the hub's link key, never stored (an
in-process hub on a real SQLite file; PostgreSQL for the cluster's shared key).

Whoever reads the store learns no token; the hub shows owners the same links after a restart;
replacing a link makes a new one and refuses the old; sessions made before 0.3 keep working
with the tokens stored for them until a link is replaced; a new link key changes every link."""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from collabd import linktokens
from collabd.settings import Settings
from collabd.store import SessionRecord, SQLiteStore
from tests.store.conftest import pg_url  # noqa: F401  (a fixture)
from tests.support.inproc import InProcHub

OLD_EDIT, OLD_VIEW = "old-edit-token-" + "e" * 28, "old-view-token-" + "v" * 28


def store_bytes(data: Path) -> bytes:
    """Every byte of the SQLite store, its write-ahead log included."""
    return b"".join(p.read_bytes() for p in sorted(data.glob("collabd.sqlite3*")))


def admin_view(app: InProcHub, session_id: str) -> dict[str, Any]:
    status, info = app.api("GET", f"/api/sessions/{session_id}")
    assert status == 200, info
    return dict(info)


def rotate(app: InProcHub, session_id: str, role: str) -> str:
    status, body = app.api("POST", f"/api/sessions/{session_id}/links/rotate", {"role": role})
    assert status == 200, body
    return str(body["token"])


def test_a_new_sessions_tokens_are_nowhere_in_the_store(app: InProcHub) -> None:
    s = app.create_session("secret.ipynb")
    s2 = app.create_session("other.ipynb")
    rotated = rotate(app, s["id"], "edit")
    written = store_bytes(app.data)
    assert s["id"].encode() in written  # the file is the store, and it is read in full
    for token in (s["edit_token"], s["view_token"], s2["edit_token"], rotated):
        assert token.encode() not in written
    with sqlite3.connect(app.data / "collabd.sqlite3") as db:
        rows = db.execute("SELECT edit_token, view_token, edit_gen, view_gen FROM sessions")
        assert sorted(rows.fetchall()) == [("", "", 1, 1), ("", "", 2, 1)]


def test_the_key_is_private_and_the_links_survive_a_restart(app: InProcHub) -> None:
    s = app.create_session()
    key = app.data / linktokens.KEY_FILE_NAME
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    app.restart()
    again = admin_view(app, s["id"])
    assert (again["edit_token"], again["view_token"]) == (s["edit_token"], s["view_token"])
    assert app.api("GET", f"/api/sessions/{s['id']}", token=s["edit_token"])[0] == 200
    assert app.create_session()["edit_token"] == s["edit_token"]  # the same path: the same


def test_replacing_a_link_refuses_the_old_token_and_shows_the_new(app: InProcHub) -> None:
    s = app.create_session()
    first = rotate(app, s["id"], "edit")
    second = rotate(app, s["id"], "edit")
    assert len({s["edit_token"], first, second}) == 3 and len(second) == 43
    for old in (s["edit_token"], first):
        assert app.api("GET", f"/api/sessions/{s['id']}", token=old)[0] == 401
    app.restart()
    assert admin_view(app, s["id"])["edit_token"] == second
    assert admin_view(app, s["id"])["view_token"] == s["view_token"]


def test_a_session_from_before_keeps_its_stored_tokens_until_replaced(tmp_path: Path) -> None:
    data = tmp_path / "data"
    old = SQLiteStore(data / "collabd.sqlite3")
    old.add_session(SessionRecord("oldsession", "old.ipynb", OLD_EDIT, OLD_VIEW, time.time()))
    old.close()
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "old.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    app = InProcHub(tmp_path / "root", data).start()
    try:
        info = admin_view(app, "oldsession")
        assert (info["edit_token"], info["view_token"]) == (OLD_EDIT, OLD_VIEW)
        assert app.api("GET", "/api/sessions/oldsession", token=OLD_EDIT)[0] == 200
        fresh = rotate(app, "oldsession", "edit")
        assert app.api("GET", "/api/sessions/oldsession", token=OLD_EDIT)[0] == 401
        assert app.api("GET", "/api/sessions/oldsession", token=fresh)[0] == 200
        assert app.api("GET", "/api/sessions/oldsession", token=OLD_VIEW)[0] == 200
    finally:
        app.stop()
    written = store_bytes(data)
    assert OLD_EDIT.encode() not in written and fresh.encode() not in written
    assert OLD_VIEW.encode() in written  # not replaced yet: still the session's token


def test_another_link_key_changes_every_link(tmp_path: Path) -> None:
    key_file = tmp_path / "link-key"
    key_file.write_text("a-link-key-shared-by-the-hubs-0123456789\n")
    app = InProcHub(tmp_path / "root", tmp_path / "data", link_key_file=str(key_file)).start()
    try:
        s = app.create_session()
        assert not (tmp_path / "data" / linktokens.KEY_FILE_NAME).exists()  # the file's key
        key_file.write_text("another-key-after-a-leak-0123456789abcdef\n")
        app.restart()
        assert app.api("GET", f"/api/sessions/{s['id']}", token=s["edit_token"])[0] == 401
        now = admin_view(app, s["id"])
        assert now["edit_token"] != s["edit_token"] and now["view_token"] != s["view_token"]
        assert app.api("GET", f"/api/sessions/{s['id']}", token=now["edit_token"])[0] == 200
    finally:
        app.stop()


def test_hubs_sharing_a_database_derive_the_same_links(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    one = InProcHub(tmp_path / "root", tmp_path / "d1", database_url=pg_url).start()
    two = InProcHub(tmp_path / "root", tmp_path / "d2", database_url=pg_url).start()
    try:
        s = one.create_session()
        assert two.create_session()["edit_token"] == s["edit_token"]
        assert two.api("GET", f"/api/sessions/{s['id']}", token=s["view_token"])[0] == 200
    finally:
        two.stop()
        one.stop()


def test_a_link_key_file_that_cannot_be_used_is_refused(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_text("tiny\n")
    for path, says in ((tmp_path / "missing", "cannot read"), (short, "16 characters")):
        settings = Settings(root=tmp_path, data=tmp_path / "data", link_key_file=str(path))
        with pytest.raises(linktokens.LinkKeyError, match=says):
            linktokens.load_key(settings)


def test_derivation_is_bound_to_the_session_the_role_and_the_generation() -> None:
    key = b"k" * 32
    base = linktokens.derive(key, "s1", "edit", 1)
    others = {
        linktokens.derive(key, "s2", "edit", 1),
        linktokens.derive(key, "s1", "view", 1),
        linktokens.derive(key, "s1", "edit", 2),
        linktokens.derive(b"j" * 32, "s1", "edit", 1),
    }
    assert base == linktokens.derive(key, "s1", "edit", 1) and base not in others
    assert len(others) == 4
    with pytest.raises(ValueError):
        linktokens.derive(key, "s1", "admin", 1)
