"""The .ipynb on disk follows the session, and outside changes to it are merged (in process)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.support.inproc import AppFactory, InProcHub

FAST = {"save_delay_s": 0.3, "save_max_delay_s": 1.0, "watch_interval_s": 0.2}


@pytest.fixture
def app(app_factory: AppFactory) -> InProcHub:
    return app_factory(**FAST)


def wait_file(path: Path, predicate: Callable[[Any], Any], timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            nb = nbformat.reads(path.read_text(), as_version=4)
            if predicate(nb):
                return dict(nb)
        except (FileNotFoundError, ValueError, nbformat.reader.NotJSONError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"file never matched: {path.read_text()[:2000]}")
        time.sleep(0.1)


def write(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    path.write_text(nbformat.writes(nb))


def test_edits_reach_the_file_atomically_and_valid(app: InProcHub) -> None:
    s = app.create_session("nb.ipynb")
    path = app.root / "nb.ipynb"
    with app.peer(s) as c:
        cell = c.cell_ids()[0]
        c.set_source(cell, "answer = 42")
        md = c.insert_cell(1, "# Title", cell_type="markdown")
        nb = wait_file(path, lambda nb: len(nb["cells"]) == 2)
    nbformat.validate(nbformat.from_dict(nb))
    assert nb["cells"][0]["source"] == "answer = 42" and nb["cells"][1]["id"] == md
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_constant_typing_still_saves_every_few_seconds(app: InProcHub) -> None:
    s = app.create_session("nb.ipynb")
    path = app.root / "nb.ipynb"
    with app.peer(s) as c:
        cell = c.cell_ids()[0]
        seen_while_typing = False
        for _ in range(60):  # ~3 s of typing, never pausing for the 0.3 s save delay
            c.insert_text(cell, 0, "x")
            time.sleep(0.05)
            if "x" in nbformat.reads(path.read_text(), as_version=4).cells[0].source:
                seen_while_typing = True
        assert seen_while_typing


def test_outside_change_is_merged_not_lost(app: InProcHub) -> None:
    path = app.root / "nb.ipynb"
    write(path, "a = 1", "b = 2")
    s = app.create_session("nb.ipynb")
    with app.peer(s) as c:
        first, second = c.cell_ids()
        c.insert_text(second, len(c.source(second)), "  # typed live")
        wait_file(path, lambda n: n["cells"][1]["source"].endswith("typed live"))
        on_disk = nbformat.read(path, as_version=4)
        on_disk.cells[0].source = "a = 100"  # someone edits the file in another editor
        on_disk.cells.append(nbformat.v4.new_markdown_cell("added on disk"))
        path.write_text(nbformat.writes(on_disk))
        c.wait_for(lambda: len(c.cells()) == 3 and c.source(first) == "a = 100")
        assert c.source(second) == "b = 2  # typed live"
        assert c.cells()[2]["source"] == "added on disk"
        final = wait_file(path, lambda n: len(n["cells"]) == 3)
        assert final["cells"][1]["source"] == "b = 2  # typed live"


def test_broken_outside_write_is_ignored_and_nothing_is_lost(app: InProcHub) -> None:
    s = app.create_session("nb.ipynb")
    path = app.root / "nb.ipynb"
    with app.peer(s) as c:
        cell = c.cell_ids()[0]
        c.set_source(cell, "keep me")
        wait_file(path, lambda n: n["cells"][0]["source"] == "keep me")
        path.write_text("{ half written")
        time.sleep(1.0)  # several looks at the file
        c.drain()
        assert c.source(cell) == "keep me"
        c.insert_text(cell, 0, "# ")
        wait_file(path, lambda n: n["cells"][0]["source"] == "# keep me")


def test_outside_edit_and_live_typing_in_the_same_cell_both_survive(
    app_factory: AppFactory,
) -> None:
    app = app_factory(**{**FAST, "save_delay_s": 5.0, "save_max_delay_s": 10.0})
    path = app.root / "nb.ipynb"
    write(path, "a = 1\nb = 2")
    s = app.create_session("nb.ipynb")
    with app.peer(s) as c:
        (cell,) = c.cell_ids()
        c.insert_text(cell, 0, "# typed live\n")
        c.wait_for(lambda: "# typed live" in str(app.notebook(s)))  # the hub has it
        on_disk = nbformat.read(path, as_version=4)
        on_disk.cells[0].source = "a = 1\nb = 3"
        path.write_text(nbformat.writes(on_disk))
        c.wait_for(lambda: c.source(cell).endswith("b = 3"))
        assert c.source(cell) == "# typed live\na = 1\nb = 3"


def test_edits_made_while_a_save_is_written_survive_a_kill_before_the_next_save(
    app: InProcHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file a save writes holds the room as it was when the save began; what is typed
    while it is being written is stored, but not in the file. A hub that loads the room after
    a kill (or takes it over in a cluster) must take that file as stale, not as an outside
    edit that deletes what was typed meanwhile."""
    from collabd.disk import disksync, ipynb

    s = app.create_session("nb.ipynb")
    path = app.root / "nb.ipynb"
    real_write = ipynb.write
    writing, release = threading.Event(), threading.Event()

    def slow_write(*args: Any, **kwargs: Any) -> str:
        writing.set()
        assert release.wait(20)
        return real_write(*args, **kwargs)

    with app.peer(s, name="ann") as ann, app.peer(s, name="bob") as bob:
        cell = ann.cell_ids()[0]
        ann.set_source(cell, "saved = 1\n")
        wait_file(path, lambda n: n["cells"][0]["source"] == "saved = 1\n")
        monkeypatch.setattr(ipynb, "write", slow_write)
        ann.insert_text(cell, len(ann.source(cell)), "also_saved = 2\n")
        assert writing.wait(20)  # the save has its text and is writing it
        ann.insert_text(cell, len(ann.source(cell)), "typed_during_the_write = 3\n")
        bob.wait_for(lambda: "typed_during_the_write" in bob.source(cell))  # stored, then sent
    # both have left (their leaving is stored too); the hub is killed before its next save
    monkeypatch.setattr(disksync.DiskSync, "_save", _no_save)
    release.set()
    wait_file(path, lambda n: "also_saved" in n["cells"][0]["source"])
    app.stop()
    monkeypatch.undo()

    app.start()
    expected = "saved = 1\nalso_saved = 2\ntyped_during_the_write = 3\n"
    with app.peer(s, name="cy") as cy:
        assert cy.source(cell) == expected
    wait_file(path, lambda n: n["cells"][0]["source"] == expected)


async def _no_save(self: Any, live: Any, state: Any) -> None:
    """A save that never happens: the hub is killed before it."""


def test_an_outside_edit_found_as_a_room_reopens_keeps_what_is_typed_meanwhile(
    app: InProcHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reloaded room is compared with its file after it opens (on a thread): an edit made to
    the file while the hub was away is merged against the room as loaded, so what people type
    while the comparison runs is kept, and so is the outside edit."""
    from collabd.disk import disksync

    path = app.root / "nb.ipynb"
    write(path, "a = 1", "b = 2")
    s = app.create_session("nb.ipynb")
    with app.peer(s) as c:
        first, second = c.cell_ids()
        c.set_source(second, "b = 2  # saved")
        wait_file(path, lambda n: n["cells"][1]["source"] == "b = 2  # saved")
    app.stop()
    on_disk = nbformat.read(path, as_version=4)
    on_disk.cells[0].source = "a = 100"  # edited in another editor while the hub was down
    path.write_text(nbformat.writes(on_disk))

    comparing, typed = threading.Event(), threading.Event()
    real_same = disksync._same

    def slow_same(text: str, state: bytes) -> bool:
        comparing.set()
        assert typed.wait(20)  # someone types while the room is being compared
        return real_same(text, state)

    monkeypatch.setattr(disksync, "_same", slow_same)
    app.start()
    with app.peer(s) as c:
        assert comparing.wait(20)
        c.insert_text(second, 0, "# typed while it was compared\n")
        c.wait_for(lambda: "typed while" in str(app.notebook(s)))  # the hub has it
        typed.set()
        c.wait_for(lambda: c.source(first) == "a = 100")
        assert c.source(second) == "# typed while it was compared\nb = 2  # saved"
        typed_in = "# typed while it was compared\nb = 2  # saved"
        final = wait_file(path, lambda n: n["cells"][1]["source"] == typed_in)
        assert final["cells"][0]["source"] == "a = 100"
