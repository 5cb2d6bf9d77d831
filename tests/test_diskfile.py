"""The .ipynb on disk follows the session, and outside changes to it are merged."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import nbformat

from collabd.client import NotebookClient

from .conftest import HubProcess

FAST = {
    "COLLABD_SAVE_DELAY_S": "0.3",
    "COLLABD_SAVE_MAX_DELAY_S": "1",
    "COLLABD_WATCH_INTERVAL_S": "0.2",
}


async def wait_file(path: Path, predicate: Any, timeout: float = 20.0) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            nb = nbformat.reads(path.read_text(), as_version=4)
            if predicate(nb):
                return dict(nb)
        except (FileNotFoundError, ValueError, nbformat.reader.NotJSONError):
            pass
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"file never matched: {path.read_text()[:2000]}")
        await asyncio.sleep(0.1)


async def test_edits_reach_the_file_atomically_and_valid(hub_factory: Any) -> None:
    hub: HubProcess = hub_factory(env=FAST)
    s = hub.create_session("nb.ipynb")
    path = hub.root / "nb.ipynb"
    async with NotebookClient.from_link(s["edit_url"]) as c:
        cell = c.cell_ids()[0]
        c.set_source(cell, "answer = 42")
        md = c.insert_cell(1, "# Title", cell_type="markdown")
        nb = await wait_file(path, lambda nb: len(nb["cells"]) == 2)
    nbformat.validate(nbformat.from_dict(nb))
    assert nb["cells"][0]["source"] == "answer = 42" and nb["cells"][1]["id"] == md
    assert not [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")]


async def test_constant_typing_still_saves_every_few_seconds(hub_factory: Any) -> None:
    hub: HubProcess = hub_factory(env=FAST)
    s = hub.create_session("nb.ipynb")
    path = hub.root / "nb.ipynb"
    async with NotebookClient.from_link(s["edit_url"]) as c:
        cell = c.cell_ids()[0]
        seen_while_typing = False
        for _ in range(60):  # ~3 s of typing, never pausing for the 0.3 s save delay
            c.insert_text(cell, 0, "x")
            await asyncio.sleep(0.05)
            if "x" in nbformat.reads(path.read_text(), as_version=4).cells[0].source:
                seen_while_typing = True
        assert seen_while_typing


async def test_outside_change_is_merged_not_lost(hub_factory: Any) -> None:
    hub: HubProcess = hub_factory(env=FAST)
    path = hub.root / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a = 1"), nbformat.v4.new_code_cell("b = 2")]
    path.write_text(nbformat.writes(nb))
    s = hub.create_session("nb.ipynb")
    async with NotebookClient.from_link(s["edit_url"]) as c:
        first, second = c.cell_ids()
        c.insert_text(second, len(c.text(second)), "  # typed live")
        await wait_file(path, lambda n: n["cells"][1]["source"].endswith("typed live"))
        on_disk = nbformat.read(path, as_version=4)
        on_disk.cells[0].source = "a = 100"  # someone edits the file in another editor
        on_disk.cells.append(nbformat.v4.new_markdown_cell("added on disk"))
        path.write_text(nbformat.writes(on_disk))
        await c.wait_for(lambda: len(c.cells()) == 3 and c.source(first) == "a = 100")
        assert c.source(second) == "b = 2  # typed live"
        assert c.cells()[2]["source"] == "added on disk"
        final = await wait_file(path, lambda n: len(n["cells"]) == 3)
        assert final["cells"][1]["source"] == "b = 2  # typed live"


async def test_broken_outside_write_is_ignored_and_nothing_is_lost(hub_factory: Any) -> None:
    hub: HubProcess = hub_factory(env=FAST)
    s = hub.create_session("nb.ipynb")
    path = hub.root / "nb.ipynb"
    async with NotebookClient.from_link(s["edit_url"]) as c:
        cell = c.cell_ids()[0]
        c.set_source(cell, "keep me")
        await wait_file(path, lambda n: n["cells"][0]["source"] == "keep me")
        path.write_text("{ half written")
        await asyncio.sleep(1.0)
        assert c.source(cell) == "keep me"
        c.insert_text(cell, 0, "# ")
        await wait_file(path, lambda n: n["cells"][0]["source"] == "# keep me")


async def test_outside_edit_and_live_typing_in_the_same_cell_both_survive(
    hub_factory: Any,
) -> None:
    slow_save = {**FAST, "COLLABD_SAVE_DELAY_S": "5", "COLLABD_SAVE_MAX_DELAY_S": "10"}
    hub: HubProcess = hub_factory(env=slow_save)
    path = hub.root / "nb.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("a = 1\nb = 2")]
    path.write_text(nbformat.writes(nb))
    s = hub.create_session("nb.ipynb")
    async with NotebookClient.from_link(s["edit_url"]) as c:
        (cell,) = c.cell_ids()
        c.insert_text(cell, 0, "# typed live\n")
        await c.notebook_json()  # the hub has it
        on_disk = nbformat.read(path, as_version=4)
        on_disk.cells[0].source = "a = 1\nb = 3"
        path.write_text(nbformat.writes(on_disk))
        await c.wait_for(lambda: c.source(cell).endswith("b = 3"))
        assert c.source(cell) == "# typed live\na = 1\nb = 3"
