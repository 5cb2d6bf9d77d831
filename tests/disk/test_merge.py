"""collabd.disk.merge: an outside change to the .ipynb merged into the live document."""

from __future__ import annotations

import copy
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from collabd import notebook
from collabd.disk.merge import merge_outside


def _doc_with(cells: list[Any]) -> Doc[Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, notebook.parse_ipynb(nbformat.writes(nb)))
    return doc


def test_merge_outside_keeps_concurrent_typing_in_the_same_cell() -> None:
    doc = _doc_with([nbformat.v4.new_code_cell("line one\nline two")])
    base = notebook.to_json(doc)  # what the hub last wrote to disk
    outside = copy.deepcopy(base)
    outside["cells"][0]["source"] = "line one\nline 2\nline three"
    ycell = notebook.cells(doc)[0]
    ycell["source"].insert(0, "# mine 🙂\n")  # typed live meanwhile
    merge_outside(doc, outside, base)
    assert notebook.cell_source(ycell) == "# mine 🙂\nline one\nline 2\nline three"


def test_merge_outside_keeps_cells_added_live() -> None:
    doc = _doc_with([nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")])
    base = notebook.to_json(doc)
    ynb = YNotebook(doc)
    ynb.ycells.insert(1, ynb.create_ycell({"cell_type": "code", "source": "live", "metadata": {}}))
    outside = copy.deepcopy(base)
    outside["cells"].append(dict(nbformat.v4.new_markdown_cell("disk")))
    del outside["cells"][0]
    merge_outside(doc, outside, base)
    assert [c["source"] for c in notebook.to_json(doc)["cells"]] == ["live", "b", "disk"]


def test_merge_outside_adds_removes_and_reorders_cells() -> None:
    a, b, c = (nbformat.v4.new_code_cell(x) for x in "abc")
    doc = _doc_with([a, b, c])
    outside = notebook.to_json(doc)
    outside["cells"] = [
        outside["cells"][2],
        outside["cells"][0],
        dict(nbformat.v4.new_markdown_cell("new")),
    ]
    merge_outside(doc, outside)
    merged = notebook.to_json(doc)
    assert [x["source"] for x in merged["cells"]] == ["c", "a", "new"]
    assert [x["id"] for x in merged["cells"][:2]] == [
        outside["cells"][0]["id"],
        outside["cells"][1]["id"],
    ]
