"""Checkpoints into a real git repository, and what changed between two moments of a recording.

The app runs in process; participants' edits are made as the hub receives them (updates with
their `peer:N` origin, after their join), and one test drives a real hub with real clients.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Text
from starlette.testclient import TestClient

from collabd import notebook
from collabd.api.app import create_app
from collabd.client import NotebookClient
from collabd.settings import Settings
from tests.disk.test_ipynb import _v44, _v45, jupyter_text
from tests.support.hubproc import HubProcess

TOKEN = "admin-" + "g" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path / "root"
    root.mkdir()
    settings = Settings(root=root, data=tmp_path / "data", token=TOKEN, watch_interval_s=3600,
                        save_delay_s=3600, save_max_delay_s=3600)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client, root


def repo(root: Path) -> None:
    git(root, "init", "-q")
    git(root, "config", "user.email", "owner@example.com")
    git(root, "config", "user.name", "Owner")
    (root / ".gitignore").write_text("/data/\n")


def session_for(client: TestClient, root: Path, name: str, nb: dict[str, Any]) -> dict[str, Any]:
    (root / name).write_text(jupyter_text(nb), encoding="utf-8")
    response = client.post("/api/sessions", json={"path": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


def on_hub(client: TestClient, session: dict[str, Any], fn: Any) -> Any:
    hub = client.app.state.hub  # type: ignore[attr-defined]

    async def go() -> Any:
        live = await hub.room(await hub.session(session["id"]))
        result = fn(live)
        await live.flush()
        return result

    assert client.portal is not None
    return client.portal.call(go)


def participant_edits(live: Any, peer: int, name: str, index: int, text: str) -> None:
    live.record_event("join", {"peer": peer, "role": "edit", "name": name})

    def edit(doc: Doc[Any]) -> None:
        source: Text = notebook.cells(doc)[index]["source"]
        source += text

    live.change(f"peer:{peer}", edit)


def participant_adds(live: Any, peer: int, index: int, source: str) -> None:
    from jupyter_ydoc import YNotebook

    ynb = YNotebook(live.doc)

    def add(doc: Doc[Any]) -> None:
        notebook.cells(doc).insert(
            index,
            ynb.create_ycell(
                {"cell_type": "markdown", "source": source, "metadata": {}, "id": "added-cell"}
            ),
        )

    live.change(f"peer:{peer}", add)


def checkpoint(client: TestClient, session: dict[str, Any], **body: Any) -> Any:
    return client.post(f"/api/sessions/{session['id']}/checkpoint", json=body,
                       headers={"Authorization": f"Bearer {session['edit_token']}"})  # fmt: skip


def test_checkpoint_commits_that_file_with_a_summary_and_co_authors(
    app: tuple[TestClient, Path],
) -> None:
    client, root = app
    repo(root)
    session = session_for(client, root, "nb.ipynb", _v44())
    (root / "other.txt").write_text("not mine")
    git(root, "add", "nb.ipynb", "other.txt", ".gitignore")
    git(root, "commit", "-qm", "start")
    (root / "other.txt").write_text("staged, not committed by the checkpoint")
    git(root, "add", "other.txt")

    def work(live: Any) -> None:
        participant_edits(live, 1, "Ada Lovelace", 3, "\nw = 4")
        participant_edits(live, 2, "bob", 0, " more")
        participant_adds(live, 2, 1, "a new note")
        live.record_event(
            "run",
            {
                "request_id": "r1",
                "cell_id": "x",
                "by": {"name": "Ada"},
                "status": "ok",
                "started": time.time(),
                "ended": time.time(),
            },
        )
        live.record_event("run", {"request_id": "r2", "cell_id": "x", "by": {"name": "Ada"},
                                  "status": "error", "started": time.time(),
                                  "ended": time.time()})  # fmt: skip

    on_hub(client, session, work)
    response = checkpoint(client, session)
    assert response.status_code == 201, response.text
    result = response.json()
    assert result["commit"] == git(root, "rev-parse", "HEAD").strip()
    assert git(root, "show", "--name-only", "--format=", "HEAD").split() == ["nb.ipynb"]
    assert "other.txt" in git(root, "diff", "--cached", "--name-only")  # still staged
    message = git(root, "log", "-1", "--format=%B")
    subject = "Checkpoint: 2 cells changed, 1 cell added, 2 runs (1 error, 1 ok)"
    assert message.splitlines()[0] == subject
    assert "- added markdown cell" in message and "'a new note'" in message
    assert re.search(r"- added markdown cell \d+: 'a new note'", message), message  # a number
    assert "Co-authored-by: Ada Lovelace <ada-lovelace@users.noreply.collabd>" in message
    assert "Co-authored-by: bob <bob@users.noreply.collabd>" in message
    assert [a["name"] for a in result["authors"]] == ["Ada Lovelace", "bob"]
    committed = git(root, "show", "HEAD:nb.ipynb")
    assert committed == (root / "nb.ipynb").read_text(encoding="utf-8")
    assert json.loads(committed)["nbformat_minor"] == 4 and '"id"' not in committed
    # nothing since: 422; and the next checkpoint names only who edited after this one
    assert checkpoint(client, session).json()["error"] == "nothing_changed"
    on_hub(client, session, lambda live: participant_edits(live, 3, "cy", 0, "!"))
    second = checkpoint(client, session, message="Polish the title")
    assert second.status_code == 201
    message = git(root, "log", "-1", "--format=%B")
    assert message.startswith("Polish the title\n")
    assert "cy <cy@" in message and "Ada" not in message and "bob" not in message


def test_checkpoint_refusals(app: tuple[TestClient, Path], tmp_path: Path) -> None:
    client, root = app
    session = session_for(client, root, "nb.ipynb", _v45(3))
    response = checkpoint(client, session)
    assert response.status_code == 409 and response.json()["error"] == "not_a_repository"
    repo(root)
    git(root, "add", "nb.ipynb")
    git(root, "commit", "-qm", "start")
    view = client.post(f"/api/sessions/{session['id']}/checkpoint", json={},
                       headers={"Authorization": f"Bearer {session['view_token']}"})  # fmt: skip
    assert view.status_code == 403
    assert checkpoint(client, session).json()["error"] == "nothing_changed"
    # someone edits the file outside the session: said, nothing committed
    head = git(root, "rev-parse", "HEAD")
    outside = _v45(3)
    outside["cells"][0]["source"] = "edited in vim"
    (root / "nb.ipynb").write_text(jupyter_text(outside), encoding="utf-8")
    refused = checkpoint(client, session)
    assert refused.status_code == 409 and refused.json()["error"] == "outside_changes"
    assert "did not write" in refused.json()["detail"]
    assert git(root, "rev-parse", "HEAD") == head


def test_diff_between_two_moments_with_who_changed_what(app: tuple[TestClient, Path]) -> None:
    client, root = app
    session = session_for(client, root, "nb.ipynb", _v45(4))
    on_hub(client, session, lambda live: None)
    time.sleep(0.05)
    t0 = time.time()
    time.sleep(0.05)

    def work(live: Any) -> None:
        participant_edits(live, 1, "ada", 0, "\n# ada was here")
        participant_adds(live, 2, 2, "bob's note")

        def remove(doc: Doc[Any]) -> None:
            del notebook.cells(doc)[4]

        live.record_event("join", {"peer": 2, "role": "edit", "name": "bob"})
        live.change("peer:2", remove)

        def output(doc: Doc[Any]) -> None:
            from pycrdt import Map

            notebook.cells(doc)[1]["outputs"].append(
                Map({"output_type": "stream", "name": "stdout", "text": "1\n"})
            )

        live.change("kernel", output)

    on_hub(client, session, work)
    time.sleep(0.05)
    t1 = time.time()
    view = {"Authorization": f"Bearer {session['view_token']}"}
    response = client.get(f"/api/sessions/{session['id']}/recording/diff?from={t0}&to={t1}",
                          headers=view)  # fmt: skip
    assert response.status_code == 200, response.text
    result = response.json()
    changed = {c["id"]: c for c in result["changed"]}
    assert changed["c0"]["authors"] == ["ada"] and "source" in changed["c0"]["fields"]
    assert changed["c0"]["after"].endswith("# ada was here")
    assert changed["c1"]["authors"] == ["kernel"] and changed["c1"]["fields"] == ["outputs"]
    assert [(c["id"], c["authors"]) for c in result["added"]] == [("added-cell", ["bob"])]
    assert [(c["id"], c["authors"]) for c in result["removed"]] == [("c3", ["bob"])]
    assert set(result["authors"]) == {"ada", "bob", "kernel"}
    assert isinstance(result["nbdime"], list)
    # before the edits nothing changed; bad ranges are refused
    empty = client.get(f"/api/sessions/{session['id']}/recording/diff?from={t0 - 1}&to={t0}",
                       headers=view).json()  # fmt: skip
    assert empty["added"] == empty["changed"] == empty["removed"] == []
    bad = client.get(f"/api/sessions/{session['id']}/recording/diff?from={t1}&to={t0}",
                     headers=view)  # fmt: skip
    assert bad.status_code == 400


@pytest.mark.slow
@pytest.mark.slow
async def test_diff_names_real_participants(hub_factory: Any) -> None:
    hub: HubProcess = hub_factory()
    (hub.root / "nb.ipynb").write_text(jupyter_text(_v45(2)), encoding="utf-8")
    s = hub.create_session("nb.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="Grace Hopper") as grace:
        await grace.flush()
        t0 = time.time()
        cell = grace.cell_ids()[0]
        grace.insert_text(cell, 0, "# by grace\n")
        await grace.flush()
    t1 = time.time() + 0.5
    status, result = hub.api("GET", f"/api/sessions/{s['id']}/recording/diff?from={t0}&to={t1}",
                             token=s["view_token"])  # fmt: skip
    assert status == 200, result
    assert [(c["id"], c["authors"]) for c in result["changed"]] == [(cell, ["Grace Hopper"])]
