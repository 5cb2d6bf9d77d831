"""A notebook's content without its CRDT: each update's effect as plain operations (pure).

A seek that rebuilds the document applies a snapshot whose size is the whole history's (every
deleted character is still in it), so its cost grows with the recording. The seek index
(`collabd.recording.seekindex`) keeps instead the content at a checkpoint, as JSON, and each
logged update's effect on that content: the events pycrdt reports when the update is applied,
turned into operations on plain lists, dicts and strings. Replaying them costs what the change
costs.

An operation is a JSON list `[kind, path, ...]`, where `path` starts at a root of the document
(`cells`, `meta`, `widgets`) and goes down by array index or map key:
- `["t", path, delta]`: the text at `path` changes; `delta` is a list of ints and strings (n > 0:
  keep n, n < 0: drop -n, a string: insert it). Positions count UTF-8 bytes, as pycrdt's do.
- `["a", path, delta]`: the array at `path` changes; as for text, with a list of items inserted.
- `["m", path, set, dropped]`: the map at `path` gets the keys of `set` and loses `dropped`.

A transaction's events are applied parents first: pycrdt gives each event's path as of after the
transaction, which is where the parent's own change has put the child. A type created in the
transaction reports no event of its own: its content comes whole with its parent's insert.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from typing import Any

from jupyter_ydoc.utils import cast_all
from pycrdt import Array, ArrayEvent, Doc, Map, MapEvent, Text, TextEvent

from collabd import notebook, widgetstate

Roots = dict[str, Any]  # root name -> its content as plain JSON
Op = list[Any]

# The roots a notebook's file is made of (the chat and the run state are not in it).
ROOTS: tuple[tuple[str, type[Array[Any]] | type[Map[Any]]], ...] = (
    ("cells", Array),
    ("meta", Map),
    (widgetstate.KEY, Map),
)


class Unsupported(ValueError):
    """An event this module cannot express (e.g. formatted text): the index takes a new
    checkpoint after that update."""


def roots_of(doc: Doc[Any]) -> Roots:
    """The document's notebook roots as plain JSON (a checkpoint)."""
    return {name: doc.get(name, type=kind).to_py() for name, kind in ROOTS}


class Recorder:
    """Collects the operations of every transaction on a document's notebook roots."""

    def __init__(self, doc: Doc[Any]) -> None:
        self._ops: list[Op] = []
        self._broken: Exception | None = None
        # pycrdt drops an observer with the root object it was set on: both are kept
        self._roots = [doc.get(name, type=kind) for name, kind in ROOTS]
        self._subscriptions = [
            root.observe_deep(self._observer(name))
            for root, (name, _) in zip(self._roots, ROOTS, strict=True)
        ]

    def _observer(self, root: str) -> Callable[[list[Any]], None]:
        def record(events: list[Any], *_: Any) -> None:
            try:
                for event in sorted(events, key=lambda e: len(e.path)):
                    self._ops.append(_op(root, event))
            except Exception as exc:  # an observer must not raise into pycrdt
                self._broken = exc

        return record

    def take(self) -> list[Op]:
        """The operations since the last call; raises what went wrong in between."""
        ops, self._ops = self._ops, []
        if self._broken is not None:
            broken, self._broken = self._broken, None
            raise Unsupported(str(broken)) from broken
        return ops


def _py(value: Any) -> Any:
    return value.to_py() if isinstance(value, Text | Array | Map) else value


def _op(root: str, event: Any) -> Op:
    path = [root, *event.path]
    details: Any = event  # pycrdt's event classes set their attributes when made
    if isinstance(event, MapEvent):
        changes: dict[str, Any] = details.keys
        dropped = [k for k, c in changes.items() if c["action"] == "delete"]
        put = {k: _py(c["newValue"]) for k, c in changes.items() if c["action"] != "delete"}
        return ["m", path, put, dropped]
    if isinstance(event, TextEvent):
        return ["t", path, [_step(d, text=True) for d in details.delta]]
    if isinstance(event, ArrayEvent):
        return ["a", path, [_step(d, text=False) for d in details.delta]]
    raise Unsupported(f"an event of type {type(event).__name__}")


def _step(delta: dict[str, Any], *, text: bool) -> Any:
    if "retain" in delta:
        if delta.get("attributes"):
            raise Unsupported("formatted text")
        return int(delta["retain"])
    if "delete" in delta:
        return -int(delta["delete"])
    inserted = delta["insert"]
    if text:
        if not isinstance(inserted, str) or delta.get("attributes"):
            raise Unsupported("an embed or formatted text")
        return inserted
    return [_py(item) for item in inserted]


# applying


def apply(roots: Roots, ops: Iterable[Op]) -> None:
    """Apply operations in place. Values they insert are copied into `roots`, so the
    operations can be applied again elsewhere."""
    for op in ops:
        kind, path = op[0], op[1]
        parent: Any = roots
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if kind == "m":
            target = parent[key]
            target.update(copy.deepcopy(op[2]))
            for dropped in op[3]:
                target.pop(dropped, None)
        elif kind == "a":
            parent[key] = _edit_list(parent[key], op[2])
        elif kind == "t":
            parent[key] = _edit_text(parent[key], op[2])
        else:
            raise ValueError(f"unknown operation {kind!r}")


def _edit_list(items: list[Any], delta: list[Any]) -> list[Any]:
    out: list[Any] = []
    at = 0
    for step in delta:
        if isinstance(step, list):
            out.extend(copy.deepcopy(step))
        elif step >= 0:
            out.extend(items[at : at + step])
            at += step
        else:
            at -= step
    if at > len(items):
        raise ValueError("an array operation goes past the end")
    out.extend(items[at:])
    return out


def _edit_text(text: str, delta: list[Any]) -> str:
    # Positions are UTF-8 bytes: on ASCII (most code) they are the string's own indices.
    if text.isascii() and all(isinstance(s, int) or s.isascii() for s in delta):
        edited: str = _splice(text, delta)
        return edited
    encoded: bytes = _splice(
        text.encode(), [s.encode() if isinstance(s, str) else s for s in delta]
    )
    return encoded.decode()


def _splice(text: Any, delta: list[Any]) -> Any:
    pieces = []
    at = 0
    for step in delta:
        if isinstance(step, int):
            if step >= 0:
                pieces.append(text[at : at + step])
            at += abs(step)
        else:
            pieces.append(step)
    if at > len(text):
        raise ValueError("a text operation goes past the end")
    pieces.append(text[at:])
    return text[:0].join(pieces)


# reading


def raw_notebook(roots: Roots) -> notebook.NotebookJSON:
    """The notebook as `YNotebook.get(deduplicate=False)` reads it from a document with this
    content (the roots are used up: cells are changed in place)."""
    meta = roots.get("meta") or {}
    cast_all(meta, float, int)  # Yjs numbers are floats
    old_ids = int(meta.get("nbformat", 0)) == 4 and int(meta.get("nbformat_minor", 0)) <= 4
    cells = []
    for cell in roots.get("cells") or []:
        cell.pop("execution_state", None)
        cast_all(cell, float, int)
        if "id" in cell and old_ids:
            del cell["id"]
        text_cell = cell.get("cell_type") in ("raw", "markdown")
        if text_cell and "attachments" in cell and not cell["attachments"]:
            del cell["attachments"]
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": meta.get("metadata", {}),
        "nbformat": int(meta.get("nbformat", 0)),
        "nbformat_minor": int(meta.get("nbformat_minor", 0)),
    }


def notebook_from(roots: Roots) -> notebook.NotebookJSON:
    """What `reader.notebook_of` gives for a document with this content (the roots are used
    up)."""
    widgets = roots.get(widgetstate.KEY) or {}
    models = {k: v for k, v in widgets.items() if isinstance(v, dict)}
    raw = raw_notebook(roots)
    try:
        return notebook.finish(raw, models)  # nbformat copies what it reads
    except Exception:
        return raw


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
