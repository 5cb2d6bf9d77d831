"""The recording over HTTP: summary, the notebook at a moment, events for a player, the run
history, the export file, and "start a new session from here".

Every read works with an edit or a view token, on a live hub and on `collabd replay` (which puts
a `ReplaySource` in `app.state.replay`); forking needs an edit token and a live hub.
"""

from __future__ import annotations

import asyncio
import math
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from collabd import auth, notebook, paths
from collabd.api.common import (
    ApiError,
    hub_of,
    json_body,
    links,
    require_admin,
    session_access,
    token_of,
)
from collabd.auth import Access
from collabd.recording import history as runs
from collabd.recording import reader as recording
from collabd.recording.file import export
from collabd.recording.retention import Retention, policy_of
from collabd.store import SessionRecord, Store

RunIO = Callable[..., Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class ReplaySource:
    """What `collabd replay` serves: one recorded session, read-only, behind one token."""

    store: Store
    session: SessionRecord
    token: str


@dataclass(frozen=True, slots=True)
class Source:
    store: Store
    record: SessionRecord
    run_io: RunIO
    replay: bool


async def _to_thread(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(fn, *args, **kwargs)


async def source_of(request: Request) -> Source:
    """The recording the request names, once its token is checked (edit or view)."""
    replay: ReplaySource | None = getattr(request.app.state, "replay", None)
    if replay is not None:
        if request.path_params["session_id"] != replay.session.id:
            raise ApiError(404, "not_found", "no such session")
        if not auth.same(token_of(request), replay.token):
            raise ApiError(401, "unauthorized", "the token is not valid for this recording")
        return Source(replay.store, replay.session, _to_thread, True)
    record, _ = await session_access(request)
    hub = hub_of(request)
    live = hub.loaded(record.id) or await hub.room(record)  # a new session's import is logged
    await live.flush()  # what was shown to anyone is in the recording
    # Reads of history run on their own thread (the store locks each query), so a long summary
    # never holds up the one I/O thread that live edits are written through.
    return Source(hub.store, record, _to_thread, False)


def _time(request: Request, key: str, default: float | None = None) -> float:
    raw = request.query_params.get(key)
    if raw is None or raw == "":
        if default is None:
            raise ApiError(400, "bad_request", f"?{key}= (Unix seconds) is required")
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ApiError(400, "bad_request", f"?{key}= must be Unix seconds, got {raw!r}") from None
    if not math.isfinite(value):
        raise ApiError(400, "bad_request", f"?{key}= must be a finite number")
    return value


async def _notebook_at(source: Source, t: float) -> notebook.NotebookJSON:
    try:
        nb: notebook.NotebookJSON = await source.run_io(
            recording.notebook_at, source.store, source.record.id, t
        )
    except recording.BeforeStart as exc:
        raise ApiError(422, "before_start", str(exc)) from None
    return nb


def moment_name(path: str, t: float) -> str:
    """`dir/name.ipynb` at t -> `name-at-HHMMSS.ipynb` (UTC)."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".ipynb")
    return f"{stem}-at-{time.strftime('%H%M%S', time.gmtime(t))}.ipynb"


# handlers


async def get_summary(request: Request) -> Response:
    source = await source_of(request)
    result = await source.run_io(recording.summary, source.store, source.record.id)
    result["session"] = {"id": source.record.id, "path": source.record.path}
    result["replay"] = source.replay
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


async def get_notebook(request: Request) -> Response:
    source = await source_of(request)
    t = _time(request, "t", time.time())
    nb = await _notebook_at(source, t)
    headers = {"Cache-Control": "no-store"}
    if request.query_params.get("download"):
        name = moment_name(source.record.path, t).replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(notebook.to_text(nb), media_type="application/x-ipynb+json", headers=headers)


async def get_events(request: Request) -> Response:
    source = await source_of(request)
    start = _time(request, "from", 0.0)
    end = _time(request, "to", time.time())
    room = source.record.id
    if request.query_params.get("updates") in ("1", "true"):
        after = request.query_params.get("after_seq")
        if after is not None and not after.isdigit():
            raise ApiError(400, "bad_request", "?after_seq= must be a log seq")
        try:
            window = await source.run_io(
                recording.playback_window,
                source.store,
                room,
                start,
                end,
                after_seq=int(after) if after is not None else None,
            )
        except recording.BeforeStart as exc:
            raise ApiError(422, "before_start", str(exc)) from None
        return JSONResponse(window, headers={"Cache-Control": "no-store"})
    events = await source.run_io(recording.events_between, source.store, room, start, end)
    return JSONResponse({"from": start, "to": end, "events": events})


async def get_runs(request: Request) -> Response:
    source = await source_of(request)
    try:
        query = runs.RunQuery.from_params(dict(request.query_params))
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"bad filter: {exc}") from None
    found = runs.search(await source.run_io(recording.runs, source.store, source.record.id), query)
    fmt = request.query_params.get("format", "json")
    stem = source.record.path.rsplit("/", 1)[-1].removesuffix(".ipynb").replace('"', "")
    if fmt == "csv":
        return Response(
            runs.to_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{stem}-runs.csv"'},
        )
    if fmt != "json":
        raise ApiError(400, "bad_request", "format must be json or csv")
    headers = {}
    if request.query_params.get("download"):
        headers["Content-Disposition"] = f'attachment; filename="{stem}-runs.json"'
    return Response(runs.to_json_text(found), media_type="application/json", headers=headers)


async def get_export(request: Request) -> Response:
    source = await source_of(request)
    workdir = Path(tempfile.mkdtemp(prefix="collabd-export-"))
    dest = workdir / "recording.collabd"
    await source.run_io(export, source.store, source.record, dest)
    stem = source.record.path.rsplit("/", 1)[-1].removesuffix(".ipynb").replace('"', "")
    return FileResponse(
        dest,
        media_type="application/vnd.collabd.recording.reader+sqlite3",
        filename=f"{stem}.collabd",
        background=BackgroundTask(_remove, workdir),
    )


def _remove(workdir: Path) -> None:
    for child in workdir.iterdir():
        child.unlink(missing_ok=True)
    workdir.rmdir()


async def fork(request: Request) -> Response:
    if getattr(request.app.state, "replay", None) is not None:
        raise ApiError(403, "forbidden", "a replayed recording is read-only")
    record, _ = await session_access(request, edit=True)
    body = await json_body(request)
    t = body.get("t")
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not math.isfinite(t):
        raise ApiError(400, "bad_request", '{"t": <Unix seconds>} is required')
    source = await source_of(request)
    nb = await _notebook_at(source, float(t))
    try:
        nb = notebook.parse_ipynb(notebook.to_text(nb))
    except Exception as exc:
        raise ApiError(409, "invalid_notebook", f"the notebook at t is not valid: {exc}") from None
    hub = hub_of(request)
    rel = await hub.run_io(_write_beside, hub.settings.root, record.path, float(t), nb)
    new, _ = await hub.create_session(rel)
    result = links(hub, new, Access.EDIT)
    result["forked_from"] = {"id": record.id, "t": t}
    return JSONResponse(result, status_code=201)


def _write_beside(root: Path, path: str, t: float, nb: notebook.NotebookJSON) -> str:
    """Write the notebook next to `path` under a name that says the moment; never overwrite."""
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    name = moment_name(path, t)
    for n in range(1, 1000):
        candidate = folder + (name if n == 1 else name.replace(".ipynb", f"-{n}.ipynb"))
        _, full = paths.normalize(root, candidate)
        try:
            with open(full, "x", encoding="utf-8") as f:
                f.write(notebook.to_text(nb))
        except FileExistsError:
            continue
        return candidate
    raise ApiError(409, "exists", f"too many copies of {name}")


async def run_retention(request: Request) -> Response:
    """On demand: trim by the settings (or the limits given) and add missing snapshots."""
    require_admin(request)
    body = await json_body(request)
    hub = hub_of(request)
    ext = next((e for e in hub.extensions if isinstance(e, Retention)), None) or Retention(hub)
    policy = None
    if "days" in body or "bytes" in body:
        try:
            policy = policy_of(float(body.get("days") or 0), int(body.get("bytes") or 0))
        except (TypeError, ValueError):
            raise ApiError(400, "bad_request", "days and bytes must be numbers") from None
    session = body.get("session")
    rooms = [str(session)] if session else None
    return JSONResponse({"rooms": await ext.run(policy, rooms)})


routes = [
    Route("/api/sessions/{session_id}/recording", get_summary, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/notebook", get_notebook, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/events", get_events, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/export", get_export, methods=["GET"]),
    Route("/api/sessions/{session_id}/runs", get_runs, methods=["GET"]),
    Route("/api/sessions/{session_id}/fork", fork, methods=["POST"]),
    Route("/api/retention", run_retention, methods=["POST"]),
]
