"""Reading and writing `.ipynb` files the way Jupyter does, pure.

Read: nbformat's own steps (`nbformat.reads`: parse, convert to v4, validate), with the repairs
Jupyter makes or would need made said out loud: a missing minor version, a notebook from nbformat
3 converted, cell ids missing, duplicate or invalid, code cells without `outputs` or
`execution_count`, cells without `metadata`. Unknown top-level fields and metadata are kept.
What cannot be opened even then raises `Unreadable` with the reason.

Write: `nbformat.writes` (indent 1, sorted keys, lines split) and a trailing newline, exactly what
Jupyter's file manager writes, in the file's own format: a 4.4 notebook stays 4.4 without cell ids
(the ids are the session's, kept in the document only), unknown top-level fields go back in, and
collabd's bookkeeping (`metadata.collabd` on cells) stays out.

The live document always holds a notebook with cell ids (4.5 or later); how the file looked is
kept in the document's `meta` map under `FORMAT_KEY` (`FileFormat`), with the session's settings
under `SETTINGS_KEY`.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import nbformat
from jupyter_ydoc import YNotebook
from nbformat import reader as nbreader
from pycrdt import Doc, Map

from collabd import notebook
from collabd.notebook import NotebookJSON

FORMAT_KEY = "collabd_file"  # in the document's `meta` map: FileFormat.to_json()
SETTINGS_KEY = "collabd_settings"  # in the document's `meta` map: {"save_outputs": bool}
CELL_META_KEY = "collabd"  # collabd's bookkeeping in a cell's metadata (last_run)
IDS_SINCE = (4, 5)
_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
_KNOWN_TOP = frozenset({"cells", "metadata", "nbformat", "nbformat_minor"})


class Unreadable(ValueError):
    """Jupyter could not open this file either; the message says why."""


@dataclass(frozen=True, slots=True)
class FileFormat:
    """How the file on disk is written: its format version, whether its cells carry ids, and
    top-level fields the document schema has no place for (a future format's)."""

    nbformat_minor: int = 5
    cell_ids: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    # cells whose file has `"attachments": {}` (the document schema drops an empty one)
    empty_attachments: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        # extra fields as JSON text: a Yjs map would turn their integers into floats
        return {"nbformat": 4, "nbformat_minor": self.nbformat_minor, "cell_ids": self.cell_ids,
                "extra": json.dumps(self.extra, sort_keys=True),
                "empty_attachments": sorted(self.empty_attachments)}  # fmt: skip

    @classmethod
    def from_json(cls, value: Any, live_minor: int = 5) -> FileFormat:
        if not isinstance(value, dict):
            return cls(nbformat_minor=live_minor, cell_ids=live_minor >= 5)
        try:
            extra = json.loads(str(value.get("extra") or "{}"))
        except ValueError:
            extra = {}
        return cls(
            nbformat_minor=int(value.get("nbformat_minor", live_minor)),
            cell_ids=bool(value.get("cell_ids", True)),
            extra=extra if isinstance(extra, dict) else {},
            empty_attachments=frozenset(map(str, value.get("empty_attachments") or ())),
        )


@dataclass(slots=True)
class Opened:
    """A file read: the session's notebook (cells always have ids), how the file is written,
    and what had to be repaired to open it (empty when nothing was)."""

    nb: NotebookJSON
    format: FileFormat
    repairs: list[str]


# reading


def read(text: str, *, ids_from: list[NotebookJSON] | None = None) -> Opened:
    """Open notebook text as Jupyter does. `ids_from`: for a file without cell ids, the cells of
    the version it derives from (with the session's ids): unchanged and edited cells keep those
    ids, matched by content and position; other cells get new ones."""
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise Unreadable(f"not JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise Unreadable("not a notebook: the JSON is not an object")
    repairs: list[str] = []
    major = raw.get("nbformat")
    if not isinstance(major, int) or isinstance(major, bool):
        raise Unreadable("not a notebook: no nbformat version")
    if major == 4 and not isinstance(raw.get("nbformat_minor"), int):
        found = raw.get("cells")
        cells = found if isinstance(found, list) else []
        with_ids = bool(cells) and all(isinstance(c, dict) and "id" in c for c in cells)
        raw["nbformat_minor"] = 5 if with_ids else 4
        repairs.append(f"nbformat_minor was missing: read as 4.{raw['nbformat_minor']}")
        text = json.dumps(raw)
    try:
        nb = nbreader.reads(text)  # nbformat.reads' own steps, minus its silent id repairs
        if major != 4:
            nb = nbformat.convert(nb, 4)
    except Exception as exc:
        raise Unreadable(f"nbformat {major} cannot be opened: {exc}") from None
    if major != 4:
        repairs.append(f"converted from nbformat {major} to 4.{nb.nbformat_minor}")
        nb.metadata.pop("orig_nbformat", None)
        nb.metadata.pop("orig_nbformat_minor", None)
        for index, cell in enumerate(nb.get("cells") or []):  # not nbformat's random ones
            cell["id"] = _stable_id(index, cell)
    if not isinstance(nb.get("cells"), list) or not all(isinstance(c, dict) for c in nb.cells):
        raise Unreadable("not a notebook: no list of cells")
    minor = int(nb.nbformat_minor)
    file_ids = (4, minor) >= IDS_SINCE
    _repair_cells(nb.cells, repairs)
    if file_ids:
        _repair_ids(nb.cells, repairs)
    elif any("id" in c for c in nb.cells):
        repairs.append(f"cell ids removed: nbformat 4.{minor} has none")
    try:
        _changes, nb = nbformat.validator.normalize(nb)
        nbformat.validate(file_form(nb, FileFormat(minor, file_ids)))
    except Exception as exc:
        raise Unreadable(f"not a valid notebook: {_short(exc)}") from None
    extra = {k: copy.deepcopy(v) for k, v in nb.items() if k not in _KNOWN_TOP}
    if not file_ids:
        _session_ids(nb.cells, ids_from)
        nb.nbformat_minor = 5
    empty = frozenset(c["id"] for c in nb.cells if c.get("attachments") == {})
    fmt = FileFormat(minor, cell_ids=file_ids, extra=extra, empty_attachments=empty)
    live = {k: v for k, v in nbformat.from_dict(nb).items() if k in _KNOWN_TOP}
    return Opened(live, fmt, repairs)


def _short(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc).splitlines()[0][:500]


def _repair_cells(cells: list[Any], repairs: list[str]) -> None:
    filled = 0
    for cell in cells:
        if not isinstance(cell.get("metadata"), dict):
            cell["metadata"] = nbformat.from_dict({})
            filled += 1
        if "source" not in cell:
            cell["source"] = ""
            filled += 1
        if cell.get("cell_type") == "code":
            if "outputs" not in cell:
                cell["outputs"] = []
                filled += 1
            if "execution_count" not in cell:
                cell["execution_count"] = None
                filled += 1
    if filled:
        repairs.append(f"{filled} missing cell fields filled in (metadata, source, outputs)")


def _repair_ids(cells: list[Any], repairs: list[str]) -> None:
    """Missing, invalid and duplicate ids get valid unique ones (deterministic: reopening the
    same file gives the same ids)."""
    seen: set[str] = set()
    missing = invalid = duplicate = 0
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not cell_id:
            missing += 1
            base = _stable_id(index, cell)
        elif not _ID.match(cell_id):
            invalid += 1
            base = re.sub(r"[^a-zA-Z0-9_-]", "-", cell_id)[:56] or "cell"
        elif cell_id in seen:
            duplicate += 1
            base = cell_id[:56]
        else:
            seen.add(cell_id)
            continue
        new, n = base, 1
        while new in seen:
            n += 1
            new = f"{base}-{n}"
        cell["id"] = new
        seen.add(new)
    for count, what in ((missing, "had no id"), (invalid, "had an invalid id"),
                        (duplicate, "had an id used before")):  # fmt: skip
        if count:
            repairs.append(f"{count} cell(s) {what}: given a new one")


def _stable_id(index: int, cell: Any) -> str:
    """An id that opening the same file again gives again."""
    return hashlib.sha1(f"{index}:{cell.get('source')}".encode()).hexdigest()[:8]


def _session_ids(cells: list[Any], ids_from: list[NotebookJSON] | None) -> None:
    """Ids for the cells of a file that has none: the base version's, where cells match."""
    for cell in cells:
        cell.pop("id", None)
    base = [c for c in ids_from or [] if isinstance(c.get("id"), str)]
    taken: set[str] = set()
    if base:
        key = [_content_key(c) for c in base]
        ours = [_content_key(c) for c in cells]
        matcher = difflib.SequenceMatcher(None, key, ours, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag in ("equal", "replace"):  # unchanged, or edited in place
                for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
                    if tag == "equal" or base[i].get("cell_type") == cells[j].get("cell_type"):
                        cells[j]["id"] = base[i]["id"]
                        taken.add(base[i]["id"])
    for cell in cells:
        if "id" not in cell:
            new = uuid.uuid4().hex[:8]
            while new in taken:
                new = uuid.uuid4().hex[:8]
            cell["id"] = new
            taken.add(new)


def _content_key(cell: NotebookJSON) -> tuple[str, str]:
    source = cell.get("source", "")
    return str(cell.get("cell_type")), "".join(source) if isinstance(source, list) else source


# writing


def file_form(
    nb: NotebookJSON,
    fmt: FileFormat,
    *,
    save_outputs: bool = True,
    keep_bookkeeping: bool = False,
) -> Any:
    """The session's notebook as its file holds it (a NotebookNode; `nb` is not changed:
    `from_dict` builds every dict and list anew)."""
    out = nbformat.from_dict(nb)
    for key, value in fmt.extra.items():
        out.setdefault(key, copy.deepcopy(value))
    out.nbformat, out.nbformat_minor = 4, fmt.nbformat_minor
    if not save_outputs:  # the widgets' state is the outputs' state (nbstripout drops it too)
        out.metadata.pop("widgets", None)
    for cell in out.cells:
        if cell.get("id") in fmt.empty_attachments and "attachments" not in cell:
            cell.attachments = {}
        if not fmt.cell_ids:
            cell.pop("id", None)
        if not keep_bookkeeping and isinstance(cell.get("metadata"), dict):
            cell.metadata.pop(CELL_META_KEY, None)
        if not save_outputs and cell.get("cell_type") == "code":
            cell.outputs, cell.execution_count = [], None
    return out


def dumps(nb: NotebookJSON) -> str:
    """The notebook as Jupyter writes it: `nbformat.writes` and a trailing newline."""
    text = str(nbformat.writes(nbformat.from_dict(nb), version=4))
    return text if text.endswith("\n") else text + "\n"


def write(
    nb: NotebookJSON, fmt: FileFormat, *, save_outputs: bool = True, keep_bookkeeping: bool = False
) -> str:
    return dumps(file_form(nb, fmt, save_outputs=save_outputs, keep_bookkeeping=keep_bookkeeping))


def canonical(text: str) -> str:
    """What saving the file unchanged gives: the repaired notebook, as Jupyter writes it."""
    opened = read(text)
    return write(opened.nb, opened.format)


# the document's record of the file


def format_of(doc: Doc[Any]) -> FileFormat:
    meta: Map[Any] = doc.get("meta", type=Map)
    minor = meta.get("nbformat_minor")
    return FileFormat.from_json(meta.get(FORMAT_KEY), int(minor) if minor is not None else 5)


def set_format(doc: Doc[Any], fmt: FileFormat) -> None:
    meta: Map[Any] = doc.get("meta", type=Map)
    value = fmt.to_json()
    if meta.get(FORMAT_KEY) != value:
        meta[FORMAT_KEY] = value


def settings_of(doc: Doc[Any]) -> dict[str, Any]:
    meta: Map[Any] = doc.get("meta", type=Map)
    value = meta.get(SETTINGS_KEY)
    return {"save_outputs": True, **(value if isinstance(value, dict) else {})}


def set_settings(doc: Doc[Any], changes: dict[str, Any]) -> dict[str, Any]:
    meta: Map[Any] = doc.get("meta", type=Map)
    value = {**settings_of(doc), **changes}
    meta[SETTINGS_KEY] = value
    return value


def ids_of(cells: Iterable[NotebookJSON]) -> list[str]:
    return [str(c.get("id")) for c in cells]


def import_update(opened: Opened) -> bytes:
    """`import_into` a new document, as the one update that holds it: made ahead of a room's
    first load, off the event loop, for the load to apply (~10x quicker than the import)."""
    doc: Doc[Any] = Doc()
    import_into(doc, opened)
    return doc.get_update()


def import_into(doc: Doc[Any], opened: Opened) -> None:
    """Fill an empty document with a file just opened; what was repaired is told to everyone
    in `state.last_event` (`notebook_repaired`). One transaction: one update to store and send."""
    ynb = YNotebook(doc)  # before the transaction: jupyter_ydoc cannot make it inside one
    with doc.transaction(origin="import"):
        notebook.fill(ynb, opened.nb)
        set_format(doc, opened.format)
        if opened.repairs:
            detail = "opened with repairs: " + "; ".join(opened.repairs)
            notebook.state(doc)["last_event"] = {
                "kind": "notebook_repaired", "detail": detail, "at": time.time(),
            }  # fmt: skip
