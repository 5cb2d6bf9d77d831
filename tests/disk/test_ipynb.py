"""Notebooks that version well: files opened as Jupyter opens them, saved as Jupyter writes them.

The app runs in process. Every notebook of the corpus (a representative set written here, plus
the test notebooks nbdime ships in its installed package) is opened through a session, read back
and saved with no edits: the bytes are what `nbformat.writes` gives for the repaired notebook
(the original bytes when it was already canonical), and after one edit `git diff` touches only
that cell's lines.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbdime
import nbformat
import pytest
from pycrdt import Doc, Text
from starlette.testclient import TestClient

from collabd import notebook
from collabd.api.app import create_app
from collabd.disk import ipynb
from collabd.disk.disksync import DiskSync
from collabd.settings import Settings

TOKEN = "admin-" + "v" * 40
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


# the corpus


def _v44() -> dict[str, Any]:
    """A 4.4 notebook without cell ids, with the usual outputs."""
    return {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
            {
                "cell_type": "code", "execution_count": 1, "metadata": {"tags": ["x"]},
                "outputs": [
                    {"name": "stdout", "output_type": "stream", "text": ["hi\n"]},
                    {"data": {"text/plain": ["42"]}, "execution_count": 1, "metadata": {},
                     "output_type": "execute_result"},
                    {"data": {"image/png": "iVBORw0KGgo=\n", "text/plain": ["<Figure>"]},
                     "metadata": {"needs_background": "light"}, "output_type": "display_data"},
                ],
                "source": ["print('hi')\n", "42"],
            },
            {"cell_type": "raw", "metadata": {}, "source": ["raw text"]},
            {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
             "source": ["x = 1\n", "y = 2\n", "z = 3"]},
        ],
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python", "version": "3.11.7"},
        },
        "nbformat": 4,
        "nbformat_minor": 4,
    }  # fmt: skip


def _v45(cells: int = 3) -> dict[str, Any]:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}  # fmt: skip
    for i in range(cells):
        if i % 3 == 2:
            nb.cells.append(nbformat.v4.new_markdown_cell(f"## part {i}\n\ntext {i}", id=f"m{i}"))
        else:
            nb.cells.append(nbformat.v4.new_code_cell(f"a{i} = {i}\nprint(a{i})", id=f"c{i}"))
    return dict(nb)


def _duplicate_ids() -> dict[str, Any]:
    nb = _v45(4)
    nb["cells"][2]["id"] = nb["cells"][1]["id"] = nb["cells"][0]["id"]
    return nb


def _invalid_ids() -> dict[str, Any]:
    nb = _v45(3)
    nb["cells"][0]["id"] = "has spaces é"
    nb["cells"][1]["id"] = "x" * 80
    return nb


def _v3() -> dict[str, Any]:
    return {
        "metadata": {"name": "old"},
        "nbformat": 3,
        "nbformat_minor": 0,
        "worksheets": [{"cells": [
            {"cell_type": "heading", "level": 1, "metadata": {}, "source": "Old"},
            {"cell_type": "code", "collapsed": False, "input": "print(1)", "language": "python",
             "metadata": {}, "outputs": [{"output_type": "stream", "stream": "stdout",
                                          "text": "1\n"}], "prompt_number": 1},
            {"cell_type": "markdown", "metadata": {}, "source": "some *text*"},
        ], "metadata": {}}],
    }  # fmt: skip


def _future() -> dict[str, Any]:
    nb = _v45(2)
    nb["nbformat_minor"] = 99
    nb["future_field"] = {"count": 3, "items": [1, 2.5, "x"]}
    nb["cells"][0]["future_cell_field"] = True
    return nb


def _attachments_widgets() -> dict[str, Any]:
    nb = _v45(2)
    nb["cells"].append(
        nbformat.v4.new_markdown_cell(
            "![a](attachment:a.png)", id="att",
            attachments={"a.png": {"image/png": "iVBORw0KGgo="}},
        )
    )  # fmt: skip
    nb["cells"].append(nbformat.v4.new_markdown_cell("empty", id="empty-att", attachments={}))
    nb["metadata"]["widgets"] = {
        "application/vnd.jupyter.widget-state+json": {
            "state": {"abc": {"model_module": "@jupyter-widgets/controls",
                              "model_module_version": "2.0.0", "model_name": "IntSliderModel",
                              "state": {"value": 3}}},
            "version_major": 2, "version_minor": 0,
        }
    }  # fmt: skip
    nb["cells"][0]["outputs"] = [{
        "data": {"application/vnd.jupyter.widget-view+json": {
            "model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "IntSlider(value=3)"},
        "metadata": {}, "output_type": "display_data",
    }]  # fmt: skip
    return nb


def _missing_minor() -> dict[str, Any]:
    nb = _v44()
    del nb["nbformat_minor"]
    return nb


def jupyter_text(nb: dict[str, Any]) -> str:
    """How Jupyter writes a notebook: nbformat.writes, and the newline nbformat.write adds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return str(nbformat.writes(nbformat.from_dict(copy.deepcopy(nb)))) + "\n"


def _unvalidated_text(nb: dict[str, Any]) -> str:
    """Jupyter's layout without its validation (which would repair duplicate ids)."""
    return str(nbformat.v4.nbjson.writes(nbformat.from_dict(nb))) + "\n"


# name -> (text, canonical: already as Jupyter writes it)
def corpus() -> dict[str, tuple[str, bool]]:
    found: dict[str, tuple[str, bool]] = {
        "v44-no-ids": (jupyter_text(_v44()), True),
        "v45": (jupyter_text(_v45(6)), True),
        "v45-duplicate-ids": (_unvalidated_text(_duplicate_ids()), False),
        "v45-invalid-ids": (json.dumps(_invalid_ids(), indent=1), False),
        "v3-worksheets": (json.dumps(_v3(), indent=1), False),
        "v499-unknown-field": (jupyter_text(_future()), True),
        "attachments-widgets": (jupyter_text(_attachments_widgets()), True),
        "cells-1000": (jupyter_text(_v45(1000)), True),
        "missing-minor": (json.dumps(_missing_minor(), indent=2), False),
        "other-tool-formatting": (json.dumps(_v45(3), indent=2, ensure_ascii=True), False),
    }
    shipped = Path(nbdime.__file__).parent / "tests" / "files"
    for path in sorted(shipped.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        found[f"nbdime/{path.name}"] = (text, text == jupyter_text(json.loads(text)))
    return found


CORPUS = corpus()


# the app in process


@pytest.fixture
def app(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    root = tmp_path / "root"
    root.mkdir()
    settings = Settings(root=root, data=tmp_path / "data", token=TOKEN, watch_interval_s=3600,
                        save_delay_s=3600, save_max_delay_s=3600)  # fmt: skip
    with TestClient(create_app(settings)) as client:
        yield client, root


def open_session(client: TestClient, root: Path, name: str, text: str) -> dict[str, Any]:
    (root / name).write_text(text, encoding="utf-8")
    response = client.post("/api/sessions", json={"path": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return dict(response.json())


def edit_headers(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['edit_token']}"}


def in_room(client: TestClient, session: dict[str, Any], fn: Any, *, then: bool = False) -> Any:
    """Run fn(live) on the hub's loop, then save (as an edit from a participant would); with
    `then`, save first (merging what changed on disk) and run fn after."""
    hub = client.app.state.hub  # type: ignore[attr-defined]

    async def go() -> Any:
        record = await hub.session(session["id"])
        live = await hub.room(record)
        result = None if then else fn(live)
        await live.flush()
        await hub.extension(DiskSync).save_now(live)
        return fn(live) if then else result

    assert client.portal is not None
    return client.portal.call(go)


def expected_text(text: str) -> str:
    """nbformat.writes of the repaired notebook (the repairs are the ones reported)."""
    opened = ipynb.read(text)
    return jupyter_text(ipynb.file_form(opened.nb, opened.format))


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


def cell_line_ranges(text: str) -> list[tuple[int, int]]:
    """1-based (first, last) line of each cell in a notebook written with indent 1."""
    lines = text.splitlines()
    ranges, start = [], None
    for number, line in enumerate(lines, 1):
        if line == "  {":
            start = number
        elif line in ("  },", "  }") and start is not None:
            ranges.append((start, number))
            start = None
    return ranges


# tests


@pytest.mark.slow  # 63 notebooks through sessions
def test_every_corpus_notebook_round_trips_and_one_edit_touches_one_cell(
    app: tuple[TestClient, Path],
) -> None:
    client, root = app
    git(root, "init", "-q")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "T")
    identical = canonicalised = 0
    for number, (name, (text, canonical)) in enumerate(CORPUS.items()):
        file = f"nb{number}.ipynb"
        session = open_session(client, root, file, text)
        expected = expected_text(text)
        if canonical:
            assert expected == text, name
        got = client.get(f"/api/sessions/{session['id']}/notebook", headers=edit_headers(session))
        assert got.status_code == 200, (name, got.text)
        assert got.text == expected, name
        saved = client.post(f"/api/sessions/{session['id']}/save", headers=edit_headers(session))
        assert saved.status_code == 200
        on_disk = (root / file).read_text(encoding="utf-8")
        assert on_disk == expected, name
        identical += on_disk == text
        canonicalised += on_disk != text
        # Jupyter itself writes the same bytes (ids it makes up at random aside)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if "minor" not in name:  # Jupyter writes that one back without a minor version
                jupyter = jupyter_text(nbformat.reads(text, as_version=4))
                assert _no_ids(on_disk) == _no_ids(jupyter), name
        # one edit: only that cell's lines change
        nb = json.loads(on_disk)
        if not nb["cells"]:
            continue
        git(root, "add", file)
        git(root, "commit", "-qm", f"add {name}")
        target = len(nb["cells"]) // 2

        def edit(live: Any, target: int = target) -> None:
            def change(doc: Doc[Any]) -> None:
                source: Text = notebook.cells(doc)[target]["source"]
                source += "\n# edited"

            live.change("peer:1", change)

        in_room(client, session, edit)
        diff = git(root, "diff", "-U0", "--", file)
        first, last = cell_line_ranges(on_disk)[target]
        hunks = re.findall(r"^@@ -(\d+)(?:,(\d+))? ", diff, flags=re.M)
        assert hunks, name
        for start, count in hunks:
            old_first = int(start)
            old_last = old_first + (int(count) if count != "" else 1) - 1
            assert first <= old_first and old_last <= last, (name, diff)
        changed = [ln for ln in diff.splitlines() if ln[:1] in "+-" and ln[:3] not in "+++---"]
        assert len(changed) <= 6, (name, diff)
    print(f"\n{len(CORPUS)} notebooks: {identical} byte-identical, {canonicalised} rewritten "
          "exactly as nbformat.writes of the repaired notebook")  # fmt: skip
    assert identical >= sum(1 for _, canonical in CORPUS.values() if canonical)


def _no_ids(text: str) -> str:
    return re.sub(r'^   "id": ".*",\n', "", text, flags=re.M)


def test_a_44_notebook_stays_44_without_ids_and_bookkeeping_stays_out(
    app: tuple[TestClient, Path],
) -> None:
    client, root = app
    text = jupyter_text(_v44())
    session = open_session(client, root, "old.ipynb", text)

    def mark(live: Any) -> list[str]:
        from collabd.kernel import docstate

        def change(doc: Doc[Any]) -> None:
            cell_id = notebook.cells(doc)[1]["id"]
            docstate.set_last_run(doc, cell_id, {"by": {"name": "ada"}, "status": "ok"})

        live.change("kernel", change)
        return [c["id"] for c in notebook.to_json(live.doc)["cells"]]

    ids = in_room(client, session, mark)
    assert len(set(ids)) == 4  # the session has ids: the file does not
    on_disk = (root / "old.ipynb").read_text(encoding="utf-8")
    assert on_disk == text  # last_run is in the document only
    got = client.get(f"/api/sessions/{session['id']}/notebook", headers=edit_headers(session))
    assert got.text == text and '"id"' not in got.text and "collabd" not in got.text


def test_what_was_repaired_is_told_and_future_notebooks_never_500(
    app: tuple[TestClient, Path],
) -> None:
    client, root = app
    session = open_session(client, root, "dup.ipynb", CORPUS["v45-duplicate-ids"][0])

    def last_event(live: Any) -> Any:
        return notebook.state(live.doc).get("last_event")

    event = in_room(client, session, last_event)
    assert event["kind"] == "notebook_repaired"
    assert "2 cell(s) had an id used before" in event["detail"]
    future = open_session(client, root, "future.ipynb", CORPUS["v499-unknown-field"][0])
    got = client.get(f"/api/sessions/{future['id']}/notebook", headers=edit_headers(future))
    assert got.status_code == 200
    nb = json.loads(got.text)
    assert nb["nbformat_minor"] == 99 and nb["future_field"] == {"count": 3, "items": [1, 2.5, "x"]}
    assert nb["cells"][0]["future_cell_field"] is True


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json {", "not JSON"),
        ("[1, 2]", "not a notebook"),
        (json.dumps({"nbformat": 5, "nbformat_minor": 0, "cells": [], "metadata": {}}),
         "nbformat 5 cannot be opened"),
        (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                     "cells": [{"id": "a", "source": "x", "metadata": {}}]}),
         "not a valid notebook"),
    ],
)  # fmt: skip
def test_what_jupyter_cannot_open_is_refused_with_its_reason(
    app: tuple[TestClient, Path], text: str, reason: str
) -> None:
    client, root = app
    (root / "bad.ipynb").write_text(text, encoding="utf-8")
    response = client.post("/api/sessions", json={"path": "bad.ipynb"}, headers=ADMIN)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_path"
    assert reason in response.json()["detail"]


def test_save_without_outputs_setting(app: tuple[TestClient, Path]) -> None:
    client, root = app
    text = jupyter_text(_v44())
    session = open_session(client, root, "out.ipynb", text)
    url = f"/api/sessions/{session['id']}/settings"
    view = {"Authorization": f"Bearer {session['view_token']}"}
    assert client.post(url, json={"save_outputs": False}, headers=view).status_code == 403
    bad = client.post(url, json={"save_outputs": "no"}, headers=edit_headers(session))
    assert bad.status_code == 400
    response = client.post(url, json={"save_outputs": False}, headers=edit_headers(session))
    assert response.status_code == 200 and response.json() == {"save_outputs": False}
    assert client.get(url, headers=view).json() == {"save_outputs": False}
    client.post(f"/api/sessions/{session['id']}/save", headers=edit_headers(session))
    nb = json.loads((root / "out.ipynb").read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c["outputs"] == [] and c["execution_count"] is None for c in code)
    stripped = copy.deepcopy(_v44())
    for cell in stripped["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    assert (root / "out.ipynb").read_text(encoding="utf-8") == jupyter_text(stripped)
    # the outputs are still in the session
    got = client.get(f"/api/sessions/{session['id']}/notebook", headers=view)
    assert json.loads(got.text)["cells"][1]["outputs"]


def test_outside_edit_of_an_id_less_file_keeps_the_session_ids(
    app: tuple[TestClient, Path],
) -> None:
    client, root = app
    text = jupyter_text(_v44())
    session = open_session(client, root, "ext.ipynb", text)
    ids = in_room(client, session, lambda live: ipynb.ids_of(notebook.to_json(live.doc)["cells"]))
    outside = _v44()
    outside["cells"][3]["source"] = ["x = 100\n", "y = 2\n", "z = 3"]
    outside["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": ["new"]})
    (root / "ext.ipynb").write_text(jupyter_text(outside), encoding="utf-8")
    after = in_room(client, session, lambda live: notebook.to_json(live.doc)["cells"], then=True)
    assert [c["id"] for c in after][:1] + [c["id"] for c in after][2:] == ids
    assert after[4]["source"].startswith("x = 100") and after[1]["source"] == "new"
    assert (root / "ext.ipynb").read_text(encoding="utf-8") == jupyter_text(outside)
