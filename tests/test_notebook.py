"""collabd.notebook: reading and writing nbformat."""

from __future__ import annotations

from typing import Any

import nbformat
from pycrdt import Array, Doc

from collabd import notebook


def _doc_with(cells: list[Any]) -> Doc[Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, notebook.parse_ipynb(nbformat.writes(nb)))
    return doc


def test_old_notebooks_get_cell_ids() -> None:
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4
    nb.cells = [nbformat.v4.new_code_cell("x")]
    del nb.cells[0]["id"]
    parsed = notebook.parse_ipynb(nbformat.writes(nb))
    assert parsed["cells"][0]["id"] and parsed["nbformat_minor"] == 5


def test_duplicate_cell_ids_get_distinct_ids_in_the_file_only() -> None:
    doc = _doc_with([nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")])
    ycells = notebook.cells(doc)
    ycells[1]["id"] = ycells[0]["id"]  # as a buggy client could
    before = doc.get_state()
    nb = notebook.to_json(doc)
    assert len({c["id"] for c in nb["cells"]}) == 2
    assert doc.get_state() == before  # the shared document itself was not touched


def test_find_cell_follows_cells_that_move_come_and_go() -> None:
    """Lookups remember where each id was; what moved since is found again, never misplaced."""
    from jupyter_ydoc import YNotebook

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"c{i}") for i in range(5)]
    ynb = YNotebook()
    ynb.set(nb)
    doc = ynb.ydoc

    def ids() -> list[str]:
        return [c["id"] for c in doc.get("cells", type=Array).to_py()]

    def check() -> None:
        for index, cell_id in enumerate(ids()):
            found = notebook.find_cell(doc, cell_id)
            assert found is not None and found[0] == index and found[1]["id"] == cell_id

    check()
    cells = doc.get("cells", type=Array)
    gone = ids()[1]
    del cells[1]  # everything after it moves up
    assert notebook.find_cell(doc, gone) is None
    check()
    cells.insert(0, ynb.create_ycell({"cell_type": "code", "source": "new", "metadata": {}}))
    check()
    last = ids()[-1]
    del cells[len(cells) - 1]
    assert notebook.find_cell(doc, last) is None
    check()
