"""The home page's list of notebooks under the root (the app in process)."""

from __future__ import annotations

from pathlib import Path

import nbformat
from starlette.testclient import TestClient

from collabd.api.app import create_app
from collabd.settings import Settings

TOKEN = "admin-" + "n" * 40


def write(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(nbformat.writes(nbformat.v4.new_notebook()), encoding="utf-8")


def test_notebooks_under_the_root_with_their_sessions(tmp_path: Path) -> None:
    root = tmp_path / "root"
    for rel in ("b.ipynb", "a/deep/c.ipynb", ".hidden/x.ipynb", "a/.secret.ipynb"):
        write(root / rel)
    (root / "notes.txt").write_text("not a notebook")
    settings = Settings(root=root, data=root / ".collabd", token=TOKEN)
    with TestClient(create_app(settings)) as client:
        assert client.get("/api/notebooks").status_code == 401
        auth = {"Authorization": f"Bearer {TOKEN}"}
        created = client.post("/api/sessions", json={"path": "b.ipynb"}, headers=auth).json()
        listed = client.get("/api/notebooks", headers=auth).json()
        assert [n["path"] for n in listed["notebooks"]] == ["a/deep/c.ipynb", "b.ipynb"]
        assert listed["truncated"] is False
        by_path = {n["path"]: n for n in listed["notebooks"]}
        assert by_path["b.ipynb"]["session"]["id"] == created["id"]
        assert by_path["b.ipynb"]["session"]["participants"] == 0
        assert "session" not in by_path["a/deep/c.ipynb"]
        # an edit token is not the admin's: the list of everything is the admin's only
        edit = {"Authorization": f"Bearer {created['edit_token']}"}
        assert client.get("/api/notebooks", headers=edit).status_code == 401
        # and the page at / is the web client
        page = client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
