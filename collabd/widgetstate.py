"""The shared document's `widgets` map and its saved form in the `.ipynb` (pure).

The hub is the kernel's widget peer (`collabd.kernel.widgets`); it keeps every widget model's
state in the top-level Y.Map `widgets`: model id (the comm id) -> plain JSON
`{"model_name", "model_module", "model_module_version", "state", "buffers"?, "gone"?}`. Only the
hub writes it; every participant, a late joiner and the recording read it.

In a notebook file the same state is Jupyter's `metadata.widgets`
(`application/vnd.jupyter.widget-state+json`, version 2.0, as ipywidgets' `embed` and
JupyterLab's widget manager write it: `{model_id: {"model_name", "model_module",
"model_module_version", "state", "buffers"?: [{"encoding": "base64", "path", "data"}]}}`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from pycrdt import Doc, Map

KEY = "widgets"  # the top-level Y.Map
MIME_STATE = "application/vnd.jupyter.widget-state+json"
MIME_VIEW = "application/vnd.jupyter.widget-view+json"
_REF = re.compile(r"IPY_MODEL_([A-Za-z0-9_-]+)")

Entry = dict[str, Any]


def ymap(doc: Doc[Any]) -> Map[Any]:
    result: Map[Any] = doc.get(KEY, type=Map)
    return result


def entries(doc: Doc[Any]) -> dict[str, Entry]:
    """Every model the document holds (entries that are not JSON objects are skipped)."""
    return {k: v for k, v in ymap(doc).items() if isinstance(v, dict)}


def put(doc: Doc[Any], model_id: str, entry: Entry | None) -> None:
    """Write one model's entry (None removes it); call inside a transaction."""
    widgets = ymap(doc)
    if entry is None:
        if model_id in widgets:
            del widgets[model_id]
    elif widgets.get(model_id) != entry:
        widgets[model_id] = entry


def supersede_file_state(doc: Doc[Any]) -> None:
    """The session made widgets of its own: the `metadata.widgets` its file came with (saved by
    JupyterLab, say) is dropped, so the map is the one truth from now on (even once empty)."""
    ymeta = doc.get("meta", type=Map).get("metadata")
    if isinstance(ymeta, Map) and "widgets" in ymeta:
        del ymeta["widgets"]


def saved_state(models: dict[str, Entry]) -> dict[str, Any] | None:
    """`metadata.widgets` for these models, as Jupyter saves it (None when there are none)."""
    if not models:
        return None
    state: dict[str, Any] = {}
    for model_id, entry in models.items():
        saved: Entry = {
            "model_name": str(entry.get("model_name", "")),
            "model_module": str(entry.get("model_module", "")),
            "model_module_version": str(entry.get("model_module_version", "")),
            "state": entry.get("state") if isinstance(entry.get("state"), dict) else {},
        }
        buffers = [b for b in entry.get("buffers") or [] if isinstance(b, dict)]
        if buffers:
            saved["buffers"] = [
                {"encoding": "base64", "path": list(b.get("path") or []), "data": b.get("data")}
                for b in buffers
            ]
        state[model_id] = saved
    return {MIME_STATE: {"version_major": 2, "version_minor": 0, "state": state}}


def into_metadata(doc: Doc[Any], metadata: dict[str, Any]) -> None:
    """Put the session's widgets into a notebook's metadata. A session that never had widgets
    of its own leaves `metadata.widgets` as the file had it (a notebook saved by JupyterLab
    keeps its widgets until this session makes some: `supersede_file_state`)."""
    into_metadata_of(entries(doc), metadata)


def into_metadata_of(models: dict[str, Entry], metadata: dict[str, Any]) -> None:
    """`into_metadata` of the models a document holds (`entries`)."""
    saved = saved_state(models)
    if saved is not None:
        metadata["widgets"] = saved


def shown_model_ids(outputs: Iterable[Any]) -> Iterator[str]:
    """The model ids that display outputs show (`application/vnd.jupyter.widget-view+json`)."""
    for output in outputs:
        data = output.get("data") if isinstance(output, dict) else None
        view = data.get(MIME_VIEW) if isinstance(data, dict) else None
        if isinstance(view, dict) and isinstance(view.get("model_id"), str):
            yield view["model_id"]


def referenced(models: dict[str, Entry], roots: Iterable[str]) -> set[str]:
    """`roots` and every model reachable from them through `IPY_MODEL_<id>` references in their
    state (a box's children, a slider's layout and style, a link's source and target)."""
    seen: set[str] = set()
    todo = [r for r in roots if r in models]
    while todo:
        model_id = todo.pop()
        if model_id in seen:
            continue
        seen.add(model_id)
        todo.extend(r for r in _refs(models[model_id].get("state")) if r in models)
    return seen


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from _REF.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)
