"""A file read when its session is created is reused by the room's first load only while the
file is unchanged (sans I/O but for real files)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from pycrdt import Doc, Map

from collabd import notebook
from collabd.disk import ipynb, justopened
from tests.support.inproc import InProcHub


def opened(path: Path, source: str) -> tuple[justopened.Stamp | None, ipynb.Opened]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path.write_text(nbformat.writes(nb))
    return justopened.stamp_of(path), ipynb.read(path.read_text())


def test_the_reading_is_reused_once_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    kept = justopened.JustOpened()
    kept.put("s1", stamp, first)
    taken = kept.take("s1")
    assert justopened.still(path, taken) is first
    assert kept.take("s1") is None  # once: a later load reads the file


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    opened(path, "a = 1000")  # edited after the session was created
    assert justopened.still(path, justopened.Kept(stamp, first)) is None  # type: ignore[arg-type]
    path.unlink()
    assert justopened.still(path, justopened.Kept(stamp, first)) is None  # type: ignore[arg-type]


def test_only_the_newest_few_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    kept = justopened.JustOpened(keep=2)
    for sid in ("s1", "s2", "s3"):
        kept.put(sid, stamp, first)
    assert kept.take("s1") is None
    assert kept.take("s2") is not None and kept.take("s3") is not None


def test_a_file_edited_between_creation_and_first_join_is_loaded_as_it_is_then(
    app: InProcHub,
) -> None:
    path = app.root / "nb.ipynb"
    opened(path, "print('as created')")
    s = app.create_session("nb.ipynb")
    opened(path, "print('edited before anyone joined')")
    with app.peer(s) as c:
        assert [c.source(cell) for cell in c.cell_ids()] == ["print('edited before anyone joined')"]


def test_a_reading_is_kept_a_short_while_and_not_for_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    assert stamp is not None
    kept = justopened.JustOpened(keep_s=-1.0)  # expired as soon as anything else happens
    kept.put("old", stamp, first)
    assert kept.take("old") is None
    kept = justopened.JustOpened()
    kept.put("huge", stamp._replace(size=justopened.MAX_BYTES + 1), first)
    assert len(kept) == 0


def test_the_import_made_ahead_is_the_import(tmp_path: Path) -> None:
    """Applied to a room's document, the update made when the session was created holds what
    importing the file there would: cells, metadata, the file's format and what was repaired."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\nprose"),
        nbformat.v4.new_code_cell("x = 1\nprint(x)"),
        nbformat.v4.new_code_cell("y = 2"),
    ]
    nb.cells[2].id = nb.cells[1].id  # a duplicate id: repaired, and said so
    text = json.dumps(nb, indent=2)
    opened = ipynb.read(text)
    assert opened.repairs

    imported: Doc[Any] = Doc()
    ipynb.import_into(imported, opened)
    applied: Doc[Any] = Doc()
    applied.apply_update(ipynb.import_update(opened))

    assert notebook.to_json(applied) == notebook.to_json(imported)
    assert applied.get("meta", type=Map).to_py() == imported.get("meta", type=Map).to_py()
    said = [notebook.state(d).get("last_event") for d in (applied, imported)]
    assert said[0]["detail"] == said[1]["detail"] and "id used before" in said[0]["detail"]


def test_the_first_load_applies_the_import_made_when_the_session_was_created(
    app: InProcHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = app.root / "nb.ipynb"
    opened(path, "print('as created')")
    on_loop: list[bool] = []
    real = ipynb.import_into

    def import_into(doc: Doc[Any], opened: ipynb.Opened) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            on_loop.append(False)
        else:
            on_loop.append(True)
        real(doc, opened)

    monkeypatch.setattr(ipynb, "import_into", import_into)
    s = app.create_session("nb.ipynb")
    with app.peer(s) as c:
        assert [c.source(cell) for cell in c.cell_ids()] == ["print('as created')"]
    # once, made in a thread while the page loaded: not again on the event loop at the join
    assert on_loop == [False]


def test_an_import_made_ahead_that_failed_is_made_at_the_load(
    app: InProcHub, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = app.root / "nb.ipynb"
    opened(path, "print('still opens')")

    def import_update(opened: ipynb.Opened) -> bytes:
        raise RuntimeError("out of memory, say")

    monkeypatch.setattr(ipynb, "import_update", import_update)
    s = app.create_session("nb.ipynb")
    with app.peer(s) as c:
        assert [c.source(cell) for cell in c.cell_ids()] == ["print('still opens')"]
    assert "the import made ahead failed" in caplog.text
