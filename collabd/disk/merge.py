"""The .ipynb merge, pure: an outside version of the notebook merged into the live document.

Cells are matched by id, their text by a three-way merge (`textmerge`), so a change made to the file
by someone else and the typing that went on live meanwhile are both kept.
"""

from __future__ import annotations

import copy
from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text

from collabd.disk import textmerge
from collabd.notebook import NotebookJSON, cells, to_json


def merge_outside(doc: Doc[Any], theirs: NotebookJSON, base: NotebookJSON | None = None) -> None:
    """Merge an outside version of the notebook (`theirs`) into the live document.

    `base` is the version both derive from (what the hub last wrote to or read from disk); what
    changed from it to `theirs` is replayed on the live document, cells matched by id and text by
    a three-way merge, so edits made live since then are kept. Without a base, `theirs` wins.
    Outputs stay the hub's: outputs on disk are taken only for cells that are new.
    """
    base = base if base is not None else to_json(doc)
    base_cells = {c["id"]: c for c in base["cells"] if c.get("id")}
    wanted = [c for c in theirs["cells"] if c.get("id")]
    wanted_ids = {c["id"] for c in wanted}
    ynb = YNotebook(doc)  # outside the transaction: jupyter_ydoc cannot be built inside one
    ycells = cells(doc)
    ids = [ycell.get("id") for ycell in ycells]  # kept in step with ycells: lookups stay O(1)
    with doc.transaction(origin="disk"):
        for index in reversed(range(len(ids))):
            if ids[index] in base_cells and ids[index] not in wanted_ids:  # deleted outside
                del ycells[index]
                del ids[index]
        _place_cells(ynb, ycells, ids, wanted)
        position = {cell_id: index for index, cell_id in enumerate(ids)}
        for cell in wanted:
            before = base_cells.get(cell["id"])
            if before != cell and cell["id"] in position:
                _merge_cell(ycells[position[cell["id"]]], cell, before)
        meta = doc.get("meta", type=Map)
        if base.get("metadata") != theirs.get("metadata", {}):
            meta["metadata"] = Map(copy.deepcopy(theirs.get("metadata", {})))


def _place_cells(
    ynb: YNotebook, ycells: Array[Map[Any]], ids: list[Any], wanted: list[NotebookJSON]
) -> None:
    """Insert cells new on disk and follow moves made on disk; cells added live stay put."""
    previous = -1  # index of the last placed `wanted` cell
    for cell in wanted:
        found = _find(ids, cell["id"], previous + 1)
        changed_type = found is not None and ycells[found].get("cell_type") != cell["cell_type"]
        if found is not None and found > previous and not changed_type:
            previous = found
            continue
        if found is not None:  # moved on disk, or its type changed: re-create it in place
            # Yjs 13 clients cannot read pycrdt's move, hence delete and insert.
            content = copy.deepcopy(cell) if changed_type else _ycell_json(ycells[found])
            del ycells[found]
            del ids[found]
            if found < previous:
                previous -= 1
        else:
            content = copy.deepcopy(cell)
        previous += 1
        ycells.insert(previous, ynb.create_ycell(content))
        ids.insert(previous, cell["id"])


def _find(ids: list[Any], cell_id: str, hint: int) -> int | None:
    """Index of `cell_id`, looking from `hint` first (where it is unless cells moved)."""
    if hint < len(ids) and ids[hint] == cell_id:
        return hint
    try:
        return ids.index(cell_id)
    except ValueError:
        return None


def _ycell_json(ycell: Map[Any]) -> NotebookJSON:
    cell = ycell.to_py()
    assert isinstance(cell, dict)
    cell.pop("execution_state", None)
    return cell


def _merge_cell(ycell: Map[Any], cell: NotebookJSON, base: NotebookJSON | None) -> None:
    theirs = _joined(cell["source"])
    ytext = ycell["source"]
    ours = str(ytext)
    for edit in textmerge.merge(_joined(base["source"]) if base else ours, ours, theirs):
        start = len(ours[: edit.index].encode())  # pycrdt indexes text by UTF-8 byte
        length = len(ours[edit.index : edit.index + edit.length].encode())
        if length:
            del ytext[start : start + length]
        if edit.text:
            ytext.insert(start, edit.text)
        ours = ours[: edit.index] + edit.text + ours[edit.index + edit.length :]
    metadata = cell.get("metadata", {})
    if base is not None and base.get("metadata", {}) == metadata:
        return  # unchanged on disk: keep what was set live
    ymeta = ycell.get("metadata")
    if not isinstance(ymeta, Map):
        ycell["metadata"] = Map(copy.deepcopy(metadata))
        return
    for key in [k for k in ymeta.keys() if k not in metadata]:  # noqa: SIM118
        if key != "collabd":  # the hub's bookkeeping is never in the file: not deleted there
            del ymeta[key]
    for key, value in metadata.items():
        if _plain_value(ymeta.get(key)) != value:
            ymeta[key] = copy.deepcopy(value)


def _joined(source: str | list[str]) -> str:
    return "".join(source) if isinstance(source, list) else source


def _plain_value(value: Any) -> Any:
    if isinstance(value, (Map, Array, Text)):
        return value.to_py()
    return value
