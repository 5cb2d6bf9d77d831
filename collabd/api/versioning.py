"""Notebooks that version well, over HTTP: the session's save settings, checkpoints into git,
and what changed between two moments of the recording."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd import notebook
from collabd.api.access import extension_of, hub_of, session_access
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.recording import _time, source_of
from collabd.disk import checkpoint, ipynb
from collabd.disk.disksync import DiskSync
from collabd.hub import NotANotebook
from collabd.recording import diff, history, reader
from collabd.store import Store
from collabd.store.base import EVENT
from collabd.sync.liveroom import LiveRoom

SETTINGS = {"save_outputs": bool}


async def _live(request: Request, *, edit: bool) -> LiveRoom:
    record, _ = await session_access(request, edit=edit)
    try:
        live = await hub_of(request).room(record)
    except NotANotebook as exc:
        raise ApiError(409, "invalid_notebook", str(exc)) from None
    await live.flush()
    return live


async def get_settings(request: Request) -> Response:
    live = await _live(request, edit=False)
    return JSONResponse(ipynb.settings_of(live.doc))


async def set_settings(request: Request) -> Response:
    """`{"save_outputs": false}`: the file is saved without outputs (nbstripout's way)."""
    live = await _live(request, edit=True)
    body = await json_body(request)
    changes: dict[str, Any] = {}
    for key, value in body.items():
        kind = SETTINGS.get(key)
        if kind is None:
            raise ApiError(400, "bad_request", f"unknown setting {key!r} (known: save_outputs)")
        if not isinstance(value, kind):
            raise ApiError(400, "bad_request", f"{key} must be a {kind.__name__}")
        changes[key] = value
    result: dict[str, Any] = {}

    def apply(doc: Any) -> None:
        result.update(ipynb.set_settings(doc, changes))

    live.change("settings", apply)  # the change marks the file dirty: saved the new way
    await live.flush()
    return JSONResponse(result)


# checkpoints


def _last_checkpoint(store: Store, room: str) -> float:
    found = [e.ts for e in store.entries(room, kinds=(EVENT,)) if e.origin == "checkpoint"]
    return max(found) if found else 0.0


def _read_file(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _file_nb(text: str | None, ids_from: list[Any]) -> notebook.NotebookJSON:
    if text is None:
        return {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    try:
        return ipynb.read(text, ids_from=ids_from).nb
    except ipynb.Unreadable:
        return {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


async def make_checkpoint(request: Request) -> Response:
    """Save now, then commit the notebook's file (that file only) into its git repository."""
    live = await _live(request, edit=True)
    body = await json_body(request)
    subject = body.get("message")
    if subject is not None and not isinstance(subject, str):
        raise ApiError(400, "bad_request", "message must be a string")
    hub = hub_of(request)
    disk = extension_of(request, DiskSync, "does not keep notebooks on disk")
    path = disk.path_of(live)
    if path is None:
        raise ApiError(409, "no_disk", "the session's file is not kept in step")
    try:
        plan = await asyncio.to_thread(checkpoint.plan, path)
        on_disk = await asyncio.to_thread(_read_file, path)
        await asyncio.to_thread(
            checkpoint.check_outside_changes, plan, on_disk, disk.last_saved(live)
        )
        await disk.save_now(live)
        saved = await asyncio.to_thread(_read_file, path)
        head = await asyncio.to_thread(checkpoint.committed_text, plan.repo, plan.rel)
        if saved == head:
            raise checkpoint.CheckpointRefused(
                422, "nothing_changed", f"{plan.rel} is as its last commit has it"
            )
        live_cells = notebook.to_json(live.doc)["cells"]
        after = _file_nb(saved, live_cells)
        before = _file_nb(head, after["cells"])
        changes = await asyncio.to_thread(diff.cell_changes, before, after)
        since = await hub.run_io(_last_checkpoint, hub.store, live.id)
        now = time.time()
        runs = [
            r
            for r in await asyncio.to_thread(reader.runs, hub.store, live.id)
            if (r.ended or 0) > since
        ]
        authors = await asyncio.to_thread(diff.editors, hub.store, live.id, since, now)
        text = checkpoint.message(subject, changes, runs, authors)
        sha = await asyncio.to_thread(checkpoint.commit, plan, text)
    except checkpoint.CheckpointRefused as exc:
        raise ApiError(exc.status, exc.code, exc.detail) from None
    result = {
        "commit": sha,
        "message": text,
        "authors": [{"name": p.name, "email": p.address} for p in authors],
        "path": plan.rel,
        "changes": {k: len(changes[k]) for k in ("added", "changed", "removed")},
        "runs": _run_counts(runs),
    }
    live.record_event("checkpoint", {k: result[k] for k in ("commit", "path", "authors")})
    await live.flush()
    return JSONResponse(result, status_code=201)


def _run_counts(runs: list[history.RunRecord]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.status] = counts.get(run.status, 0) + 1
    return counts


# what changed between two moments


async def get_diff(request: Request) -> Response:
    source = await source_of(request)
    start = _time(request, "from", 0.0)
    end = _time(request, "to", time.time())
    if end < start:
        raise ApiError(400, "bad_request", "?to= must not be before ?from=")
    try:
        result = await source.rebuild_io(diff.between, source.store, source.record.id, start, end)
    except reader.BeforeStart as exc:
        raise ApiError(422, "before_start", str(exc)) from None
    return Response(
        json.dumps(result, separators=(",", ":")),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


read_routes = [
    Route("/api/sessions/{session_id}/recording/diff", get_diff, methods=["GET"]),
]
write_routes = [
    Route("/api/sessions/{session_id}/settings", get_settings, methods=["GET"]),
    Route("/api/sessions/{session_id}/settings", set_settings, methods=["POST"]),
    Route("/api/sessions/{session_id}/checkpoint", make_checkpoint, methods=["POST"]),
]
