"""The shared notebook document: the jupyter_ydoc YNotebook schema over a pycrdt Doc.

Pure helpers to load a notebook into a document, read it back as valid nbformat, find cells by
id and merge an outside version of the notebook into the document as ordinary edits.
"""

from __future__ import annotations

import copy
import uuid
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text

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
    ynb = YNotebook(doc)
    with doc.transaction(origin="import"):
        ynb.set(copy.deepcopy(nb))


def to_json(doc: Doc[Any]) -> NotebookJSON:
    """The document as an nbformat 4 dict; raises nbformat.ValidationError if it is not valid."""
    nb = nbformat.from_dict(YNotebook(doc).get())
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
    nbformat.validate(nb)
    return dict(nb)


def to_text(nb: NotebookJSON) -> str:
    return str(nbformat.writes(nbformat.from_dict(nb))) + "\n"


def cells(doc: Doc[Any]) -> Array[Map[Any]]:
    result: Array[Map[Any]] = doc.get("cells", type=Array)
    return result


def state(doc: Doc[Any]) -> Map[Any]:
    result: Map[Any] = doc.get("state", type=Map)
    return result


def find_cell(doc: Doc[Any], cell_id: str) -> tuple[int, Map[Any]] | None:
    for index, ycell in enumerate(cells(doc)):
        if ycell.get("id") == cell_id:
            return index, ycell
    return None


def cell_source(ycell: Map[Any]) -> str:
    source = ycell.get("source")
    return str(source) if source is not None else ""


def merge_outside(doc: Doc[Any], new: NotebookJSON) -> None:
    """Make the document equal to `new`, touching only what differs.

    Cells are matched by id; a matched cell's source is changed by a text diff, so concurrent
    typing elsewhere in the cell survives. Outputs stay the hub's: a changed output on disk is
    taken only for cells that are new.
    """
    ynb = YNotebook(doc)
    ycells = cells(doc)
    wanted = [c for c in new["cells"] if c.get("id")]
    wanted_ids = {c["id"] for c in wanted}
    with doc.transaction(origin="disk"):
        for index in reversed(range(len(ycells))):
            if ycells[index].get("id") not in wanted_ids:
                del ycells[index]
        for position, cell in enumerate(wanted):
            found = _index_of(ycells, cell["id"], start=position)
            if found is None or ycells[found].get("cell_type") != cell["cell_type"]:
                if found is not None:
                    del ycells[found]
                ycells.insert(position, ynb.create_ycell(copy.deepcopy(cell)))
                continue
            if found != position:
                # Yjs 13 clients cannot read pycrdt's move; re-create the cell instead.
                moved = ynb.create_ycell(_ycell_json(ycells[found]))
                del ycells[found]
                ycells.insert(position, moved)
            _merge_cell(ynb, position, ycells[position], cell)
        meta = doc.get("meta", type=Map)
        if meta.get("metadata") is None or _plain(meta["metadata"]) != new.get("metadata", {}):
            meta["metadata"] = Map(copy.deepcopy(new.get("metadata", {})))


def _index_of(ycells: Array[Map[Any]], cell_id: str, start: int) -> int | None:
    for index in range(start, len(ycells)):
        if ycells[index].get("id") == cell_id:
            return index
    return None


def _ycell_json(ycell: Map[Any]) -> NotebookJSON:
    cell = ycell.to_py()
    assert isinstance(cell, dict)
    cell.pop("execution_state", None)
    return cell


def _merge_cell(ynb: YNotebook, index: int, ycell: Map[Any], cell: NotebookJSON) -> None:
    source = cell["source"]
    ynb.set_cell(index, source="".join(source) if isinstance(source, list) else source)
    metadata = cell.get("metadata", {})
    ymeta = ycell.get("metadata")
    if not isinstance(ymeta, Map):
        ycell["metadata"] = Map(copy.deepcopy(metadata))
    elif _plain(ymeta) != metadata:
        for key in [k for k in ymeta.keys() if k not in metadata]:  # noqa: SIM118
            del ymeta[key]
        for key, value in metadata.items():
            if _plain_value(ymeta.get(key)) != value:
                ymeta[key] = copy.deepcopy(value)


def _plain(value: Map[Any]) -> dict[str, Any]:
    result = value.to_py()
    return result if isinstance(result, dict) else {}


def _plain_value(value: Any) -> Any:
    if isinstance(value, (Map, Array, Text)):
        return value.to_py()
    return value
