"""A participant's view of the shared notebook: read and edit cells of a local pycrdt document in
the YNotebook schema. Shared by the Python client and the tests' in-process participants."""

from __future__ import annotations

from typing import Any

from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc, Map, Text

from collabd.notebook import find_cell


class NotebookOps:
    """Needs `self.doc` (the participant's document) and `self.notebook` (a YNotebook on it)."""

    doc: Doc[Any]
    notebook: YNotebook

    def cells(self) -> list[dict[str, Any]]:
        result = self.doc.get("cells", type=Array).to_py() or []
        return list(result)

    def cell_ids(self) -> list[str]:
        return [c["id"] for c in self.cells()]

    def _ycell(self, cell_id: str) -> Map[Any]:
        found = find_cell(self.doc, cell_id)
        if found is None:
            raise KeyError(cell_id)
        return found[1]

    def cell(self, cell_id: str) -> dict[str, Any]:
        result = self._ycell(cell_id).to_py()
        assert isinstance(result, dict)
        return result

    def cell_field(self, cell_id: str, key: str, default: Any = None) -> Any:
        """One field of a cell as JSON, without converting the rest (its outputs may be large)."""
        value = self._ycell(cell_id).get(key, default)
        return value.to_py() if isinstance(value, Map | Array | Text) else value

    def source(self, cell_id: str) -> str:
        return str(self._ycell(cell_id)["source"])

    def text(self, cell_id: str) -> Text:
        text: Text = self._ycell(cell_id)["source"]
        return text

    def set_source(self, cell_id: str, source: str) -> None:
        text = self.text(cell_id)
        with self.doc.transaction():
            text.clear()
            text += source

    def insert_text(self, cell_id: str, index: int, chars: str) -> None:
        """Insert at `index` counted in characters (pycrdt itself counts UTF-8 bytes)."""
        source = self.source(cell_id)
        self.text(cell_id).insert(len(source[:index].encode()), chars)

    def insert_cell(self, index: int, source: str = "", cell_type: str = "code") -> str:
        cell: dict[str, Any] = {"cell_type": cell_type, "source": source, "metadata": {}}
        if cell_type == "code":
            cell.update(outputs=[], execution_count=None)
        ycell = self.notebook.create_ycell(cell)
        self.notebook.ycells.insert(index, ycell)
        return str(ycell["id"])

    def delete_cell(self, cell_id: str) -> None:
        found = find_cell(self.doc, cell_id)
        if found is None:
            raise KeyError(cell_id)
        del self.notebook.ycells[found[0]]

    def outputs(self, cell_id: str) -> list[dict[str, Any]]:
        return list(self.cell(cell_id).get("outputs") or [])

    def output_text(self, cell_id: str) -> str:
        """Everything a cell's outputs say as text: streams, text/plain results, errors."""
        parts = []
        for out in self.outputs(cell_id):
            kind = out.get("output_type")
            if kind == "stream":
                parts.append(str(out.get("text", "")))
            elif kind in ("execute_result", "display_data"):
                parts.append(str(out.get("data", {}).get("text/plain", "")))
            elif kind == "error":
                parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        return "".join(parts)

    def state(self) -> dict[str, Any]:
        result = self.doc.get("state", type=Map).to_py()
        return result if isinstance(result, dict) else {}
