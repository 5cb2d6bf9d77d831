"""The shared notebook document: the jupyter_ydoc YNotebook schema over a pycrdt Doc.

Pure helpers to load a notebook into a document, read it back as valid nbformat, find cells by
id. (Merging an outside version in is `collabd.disk.merge`.)
"""

from __future__ import annotations

import json
import uuid
import weakref
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map

from collabd import widgetstate

NotebookJSON = dict[str, Any]


def empty_notebook() -> NotebookJSON:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells.append(nbformat.v4.new_code_cell(""))
    return dict(nbformat.from_dict(nb))


def parse_ipynb(text: str) -> NotebookJSON:
    """Read notebook JSON text into a validated nbformat 4.5 dict (cells get ids if missing)."""
    nb = nbformat.reads(text, as_version=4)
    nbformat.validator.normalize(nb)
    if (nb.nbformat, nb.nbformat_minor) < (4, 5):
        nb.nbformat_minor = 5
        for cell in nb.cells:
            cell.setdefault("id", uuid.uuid4().hex[:8])
    nbformat.validate(nb)
    return dict(nb)


def load_into(doc: Doc[Any], nb: NotebookJSON) -> None:
    """Fill an empty document with a notebook."""
    ynb = YNotebook(doc)  # before the transaction: jupyter_ydoc cannot make it inside one
    with doc.transaction(origin="import"):
        fill(ynb, nb)


def fill(ynb: YNotebook, nb: NotebookJSON) -> None:
    """`load_into` inside a transaction the caller opened (with more of its own changes)."""
    # it copies what it keeps and changes nothing in `nb`; plain dicts copy ~4x faster than
    # nbformat's NotebookNodes (~6 ms per 1,000 cells), and a JSON round trip makes them in ~2
    ynb.set(json.loads(json.dumps(nb)))
    # jupyter_ydoc adds empty defaults and a cell to an empty notebook: not ours to add
    ymeta = ynb.ydoc.get("meta", type=Map).get("metadata")
    for key in ("language_info", "kernelspec"):
        if isinstance(ymeta, Map) and key not in nb.get("metadata", {}) and key in ymeta:
            del ymeta[key]
    if not nb.get("cells"):
        cells(ynb.ydoc).clear()


def to_json(doc: Doc[Any]) -> NotebookJSON:
    """The document as an nbformat 4 dict; raises nbformat.ValidationError if it is not valid."""
    # deduplicate=True would rename cells inside the shared document behind everyone's back
    return finish(YNotebook(doc).get(deduplicate=False), widgetstate.entries(doc))


def finish(raw: dict[str, Any], widgets: dict[str, widgetstate.Entry]) -> NotebookJSON:
    """`to_json` of a notebook as the YNotebook schema reads it (`raw`) and the document's widget
    models: what a seek index that keeps the content without the CRDT needs as well."""
    nb = nbformat.from_dict(raw)
    widgetstate.into_metadata_of(widgets, nb.metadata)
    _unique_ids(nb.cells)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    nbformat.validate(nb)
    return dict(nb)


def _unique_ids(cells: list[Any]) -> None:
    """Two cells with one id (a client may insert such) get distinct ids in the file only."""
    seen: set[str] = set()
    for cell in cells:
        cell_id, n = str(cell.get("id") or "cell"), 1
        while cell.get("id") in seen or not cell.get("id"):
            n += 1
            cell["id"] = f"{cell_id[:60]}-{n}"
        seen.add(cell["id"])


def to_text(nb: NotebookJSON) -> str:
    return str(nbformat.writes(nbformat.from_dict(nb))) + "\n"


def cells(doc: Doc[Any]) -> Array[Map[Any]]:
    result: Array[Map[Any]] = doc.get("cells", type=Array)
    return result


def state(doc: Doc[Any]) -> Map[Any]:
    result: Map[Any] = doc.get("state", type=Map)
    return result


# Where each cell id was last seen, per document: a run looks its cell up several times, and a
# scan costs ~15 µs per cell through pycrdt (~1.5 ms in a 100-cell notebook). A remembered place
# is used only after checking that the cell there still has that id; else the cells are scanned.
_places: weakref.WeakKeyDictionary[Doc[Any], dict[str, int]] = weakref.WeakKeyDictionary()


def find_cell(doc: Doc[Any], cell_id: str) -> tuple[int, Map[Any]] | None:
    ycells = cells(doc)
    places = _places.get(doc)
    index = places.get(cell_id) if places is not None else None
    if index is not None and index < len(ycells):
        ycell = ycells[index]
        if ycell.get("id") == cell_id:
            return index, ycell
    found, places = None, {}
    for index, ycell in enumerate(ycells):
        cid = ycell.get("id")
        if isinstance(cid, str):
            places.setdefault(cid, index)
            if found is None and cid == cell_id:
                found = index, ycell
    _places[doc] = places
    return found


def cell_source(ycell: Map[Any]) -> str:
    source = ycell.get("source")
    return str(source) if source is not None else ""
