"""What changed between two moments of a recording, and who changed it.

Cells added, changed and removed come from nbdime's `diff_notebooks` of the notebook at the two
moments; who changed each cell comes from the origins of the updates logged between them (each
update is applied in turn and the cells it touched noted), named after the participants' presence
(`reader.people`). Pure over a `Store` (blocking: run on a reader thread).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from nbdime import diff_notebooks
from pycrdt import ArrayEvent, Doc

from collabd import notebook
from collabd.recording import reader
from collabd.store import Store
from collabd.store.base import AWARENESS, EVENT, UPDATE

# who made updates that are not a participant's
ORIGIN_NAMES = {"kernel": "kernel", "disk": "file on disk", "import": "import"}
NOREPLY_DOMAIN = "users.noreply.collabd"


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str | None = None

    @property
    def address(self) -> str:
        """Their e-mail when their presence gave one, else a stable placeholder."""
        if self.email:
            return self.email
        slug = re.sub(r"[^a-z0-9._-]+", "-", self.name.lower()).strip("-.") or "anonymous"
        return f"{slug}@{NOREPLY_DOMAIN}"

    def trailer(self) -> str:
        name = re.sub(r"[<>\n]", "", self.name).strip() or "anonymous"
        return f"Co-authored-by: {name} <{self.address}>"


def people(store: Store, room: str) -> dict[str, Person]:
    """Origin (`peer:N`) -> the person: the name from their presence (`user.name`, or the join
    event's `name`), the e-mail from `user.email` when their client gave one."""
    found: dict[str, dict[str, str]] = {}
    for entry in store.entries(room, kinds=(EVENT,)):
        if entry.origin == "join":
            data = _json(entry.data)
            if "peer" in data and isinstance(data.get("name"), str):
                found.setdefault(f"peer:{data['peer']}", {})["name"] = data["name"]
    for entry in store.first_by_origin(room, kind=AWARENESS):
        for _client, state in reader.decode_awareness(entry.data):
            user = (state or {}).get("user")
            if not isinstance(user, dict):
                continue
            info = found.setdefault(entry.origin, {})
            for key in ("name", "email"):
                if isinstance(user.get(key), str) and user[key]:
                    info.setdefault(key, user[key])
    result = {}
    for origin, info in found.items():
        name = info.get("name") or f"anonymous {origin.split(':', 1)[-1]}"
        result[origin] = Person(name, info.get("email"))
    return result


def name_of(origin: str, persons: dict[str, Person]) -> str:
    if origin in persons:
        return persons[origin].name
    if origin.startswith("peer:"):
        return f"anonymous {origin.split(':', 1)[-1]}"
    return ORIGIN_NAMES.get(origin, origin)


def _json(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# who touched which cell


def touched_cells(
    store: Store, room: str, base: reader.DocState, doc: Doc[Any], end: float
) -> dict[str, list[str]]:
    """Cell id -> the origins of the updates logged after `base` up to `end` that changed it (in
    the order they first did), deleted cells included. They are applied to `doc` (`base`'s
    document), which is then the document at `end`."""
    ycells = notebook.cells(doc)
    ids: list[Any] = [c.get("id") for c in ycells]
    touched: dict[str, list[str]] = {}
    origin = ""

    def note(cell_id: Any) -> None:
        if isinstance(cell_id, str):
            origins = touched.setdefault(cell_id, [])
            if origin not in origins:
                origins.append(origin)

    def on_change(events: list[Any]) -> None:
        nonlocal ids
        for event in events:
            path = list(event.path)
            if path:  # inside a cell
                index = path[0]
                if isinstance(index, int) and index < len(ycells):
                    note(ycells[index].get("id"))
            elif isinstance(event, ArrayEvent):  # cells inserted or deleted
                position, after = 0, []
                for op in getattr(event, "delta", None) or []:
                    if "retain" in op:
                        after += ids[position : position + op["retain"]]
                        position += op["retain"]
                    elif "delete" in op:
                        for cell_id in ids[position : position + op["delete"]]:
                            note(cell_id)
                        position += op["delete"]
                    elif "insert" in op:
                        for ycell in op["insert"]:
                            note(ycell.get("id"))
                            after.append(ycell.get("id"))
                ids = after + ids[position:]

    subscription = ycells.observe_deep(on_change)
    try:
        for entry in _updates_after(store, room, base.seq, end):
            origin = entry.origin
            doc.apply_update(entry.data)
    finally:
        ycells.unobserve(subscription)
    return touched


def _updates_after(store: Store, room: str, seq: int, end: float) -> Iterable[Any]:
    for entry in reader._pages(store, room, seq, (UPDATE,)):
        if entry.ts > end:
            return
        yield entry


# the diff


def cell_changes(before: notebook.NotebookJSON, after: notebook.NotebookJSON) -> dict[str, Any]:
    """Cells added, changed and removed from `before` to `after` (nbdime's diff_notebooks), and
    nbdime's diff itself."""
    raw = _plain(diff_notebooks(before, after))
    added: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    old, new = before.get("cells", []), after.get("cells", [])
    for entry in raw:
        if entry.get("key") != "cells" or entry.get("op") != "patch":
            continue
        for op in entry["diff"]:
            key = op["key"]
            if op["op"] == "addrange":
                for cell in op["valuelist"]:
                    added.append({**_brief(cell), "index": _index_of(new, cell)})
            elif op["op"] == "removerange":
                for index in range(key, key + op["length"]):
                    removed.append({**_brief(old[index]), "index": index})
            elif op["op"] == "patch":
                cell = old[key]
                now = _by_id(new, cell.get("id")) or {}
                changed.append({
                    **_brief(cell),
                    "index": _index_of(new, now) if now else key,
                    "fields": sorted({d["key"] for d in op.get("diff", [])}),
                    "before": _source(cell),
                    "after": _source(now) if now else None,
                })  # fmt: skip
            elif op["op"] == "replace":
                removed.append({**_brief(old[key]), "index": key})
                added.append({**_brief(op["value"]), "index": key})
    return {"added": added, "changed": changed, "removed": removed, "nbdime": raw}


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def _source(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _brief(cell: dict[str, Any]) -> dict[str, Any]:
    return {"id": cell.get("id"), "cell_type": cell.get("cell_type"), "source": _source(cell)}


def _by_id(cells: list[Any], cell_id: Any) -> dict[str, Any] | None:
    return next((c for c in cells if c.get("id") == cell_id), None) if cell_id else None


def _index_of(cells: list[Any], cell: dict[str, Any]) -> int | None:
    cell_id = cell.get("id")
    return next((i for i, c in enumerate(cells) if c.get("id") == cell_id), None)


def between(store: Store, room: str, start: float, end: float) -> dict[str, Any]:
    """What changed from `start` to `end` (Unix s), with who changed each cell. A start before
    the recording's is its start."""
    first = reader.start_of(store, room)
    if first is None:
        raise reader.BeforeStart("nothing is recorded")
    start = max(start, first)
    end = max(end, start)
    # one rebuild, not three: the document at `start`, then the updates up to `end` applied to
    # it (noting who touched which cell) make it the document at `end`
    base = reader.doc_at(store, room, start)
    doc = base.doc()
    before = reader.notebook_of(doc)
    touched = touched_cells(store, room, base, doc, end)
    after = reader.notebook_of(doc)
    changes = cell_changes(before, after)
    persons = people(store, room)
    everyone: list[str] = []
    for kind in ("added", "changed", "removed"):
        for cell in changes[kind]:
            names = [name_of(o, persons) for o in touched.get(str(cell.get("id")), [])]
            cell["authors"] = names
            everyone += [n for n in names if n not in everyone]
    return {"from": start, "to": end, **changes, "authors": everyone}


def editors(store: Store, room: str, start: float, end: float) -> list[Person]:
    """The participants whose updates were logged in (start, end], first edit first."""
    persons = people(store, room)
    seen: list[str] = []
    for entry in store.entries(room, kinds=(UPDATE,), from_ts=start, until_ts=end):
        if entry.origin.startswith("peer:") and entry.ts > start and entry.origin not in seen:
            seen.append(entry.origin)
    result: list[Person] = []
    for origin in seen:
        person = persons.get(origin) or Person(name_of(origin, persons))
        if person.name not in [p.name for p in result]:
            result.append(person)
    return result
