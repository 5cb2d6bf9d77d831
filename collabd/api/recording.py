"""The recording over HTTP: summary, the notebook at a moment, events for a player, the run
history, the export file, and "start a new session from here".

`read_routes` work with an edit or a view token, on a live hub and on `collabd replay` alike (they
read through `app.state.recordings`); `write_routes` (fork, retention) are a live hub's only.
"""

from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from collabd import chatredact, notebook, paths
from collabd.api.access import extension_of, hub_of, require_admin, session_access
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.links import links
from collabd.api.sources import Source, sources_of
from collabd.api.tables import table_response
from collabd.auth import Access
from collabd.recording import history, reader
from collabd.recording.file import export
from collabd.recording.retention import Retention, policy_of
from collabd.store import Store

MAX_SEQ = 2**63 - 1  # SQLite's largest integer
MAX_TIME = 253402300799.0  # 9999-12-31T23:59:59Z
WINDOW_LIMIT = 20000  # entries in one player window at most (`?limit=` asks for fewer)


async def source_of(request: Request) -> Source:
    return await sources_of(request).source(request)


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
    return _in_range(value, f"?{key}=")


def _in_range(t: float, name: str) -> float:
    if not 0 <= t <= MAX_TIME:  # beyond it, naming a moment (time.gmtime) overflows
        raise ApiError(400, "bad_request", f"{name} must be Unix seconds before year 10000")
    return t


async def _notebook_at(source: Source, t: float) -> notebook.NotebookJSON:
    try:
        nb: notebook.NotebookJSON = await source.rebuild_io(
            reader.notebook_at, source.store, source.record.id, t
        )
    except reader.BeforeStart as exc:
        raise ApiError(422, "before_start", str(exc)) from None
    return nb


async def _indexed_notebook(source: Source, t: float, as_update: bool) -> Response:
    """The notebook at `t` only where the seek index reaches it (a player's first sight of a
    moment, in milliseconds: read on a thread, as the index costs what the notebook's content
    costs), as nbformat JSON or (`as_update`) a Yjs update of a document holding just that;
    404 `not_indexed` elsewhere, where a player loads the recorded document instead."""
    read = reader.indexed_state_at if as_update else reader.indexed_notebook_at
    try:
        found = await source.run_io(read, source.store, source.record.id, t)
    except reader.BeforeStart as exc:
        raise ApiError(422, "before_start", str(exc)) from None
    if found is None:
        raise ApiError(404, "not_indexed", "the seek index does not reach this moment yet")
    headers = {"Cache-Control": "no-store"}
    if isinstance(found, bytes):
        return Response(found, media_type="application/octet-stream", headers=headers)
    return JSONResponse(found, headers=headers)


def moment_name(path: str, t: float) -> str:
    """`dir/name.ipynb` at t -> `name-at-HHMMSS.ipynb` (UTC)."""
    stem = path.rsplit("/", 1)[-1].removesuffix(".ipynb")
    return f"{stem}-at-{time.strftime('%H%M%S', time.gmtime(t))}.ipynb"


# handlers


async def get_summary(request: Request) -> Response:
    source = await source_of(request)
    result = await source.run_io(reader.summary, source.store, source.record.id)
    result["session"] = {"id": source.record.id, "path": source.record.path}
    result["replay"] = source.replay
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


async def get_notebook(request: Request) -> Response:
    source = await source_of(request)
    t = _time(request, "t", time.time())
    if request.query_params.get("indexed"):
        return await _indexed_notebook(source, t, request.query_params.get("format") == "yjs")
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
        if after is not None and not (after.isdigit() and int(after) <= MAX_SEQ):
            raise ApiError(400, "bad_request", "?after_seq= must be a log seq")
        base = request.query_params.get("base", "state")
        if base not in ("state", "parts"):
            raise ApiError(400, "bad_request", "?base= must be state or parts")
        limit = request.query_params.get("limit", str(WINDOW_LIMIT))
        if not (limit.isdigit() and 1 <= int(limit) <= WINDOW_LIMIT):
            raise ApiError(400, "bad_request", f"?limit= must be 1 to {WINDOW_LIMIT} entries")
        # the player's base=parts rebuilds nothing here; a base=state does
        run_io = source.rebuild_io if base == "state" and after is None else source.run_io
        try:
            window = await run_io(
                reader.playback_window,
                source.store,
                room,
                start,
                end,
                after_seq=int(after) if after is not None else None,
                limit=int(limit),
                base_parts=base == "parts",
            )
        except reader.BeforeStart as exc:
            raise ApiError(422, "before_start", str(exc)) from None
        if source.hidden is not None and (hidden := await source.hidden()):
            window = chatredact.redact_window(window, hidden)
        return JSONResponse(window, headers={"Cache-Control": "no-store"})
    events = await source.run_io(reader.events_between, source.store, room, start, end)
    return JSONResponse({"from": start, "to": end, "events": events})


async def get_runs(request: Request) -> Response:
    source = await source_of(request)
    try:
        query = history.RunQuery.from_params(dict(request.query_params))
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"bad filter: {exc}") from None
    found = history.search(await source.run_io(reader.runs, source.store, source.record.id), query)
    return table_response(
        request,
        source.record.path,
        "runs",
        csv=lambda: history.to_csv(found),
        json=lambda: history.to_json_text(found),
    )


async def get_export(request: Request) -> Response:
    source = await source_of(request)
    workdir = Path(tempfile.mkdtemp(prefix="collabd-export-"))
    dest = workdir / "recording.collabd"
    hidden = await source.hidden() if source.hidden is not None else frozenset()
    blank = (lambda data: chatredact.redact(data, hidden)) if hidden else None
    await source.run_io(export, source.store, source.record, dest, blank)
    stem = source.record.path.rsplit("/", 1)[-1].removesuffix(".ipynb").replace('"', "")
    return FileResponse(
        dest,
        media_type="application/vnd.collabd.recording+sqlite3",
        filename=f"{stem}.collabd",
        background=BackgroundTask(_remove, workdir),
    )


def _remove(workdir: Path) -> None:
    for child in workdir.iterdir():
        child.unlink(missing_ok=True)
    workdir.rmdir()


async def fork(request: Request) -> Response:
    record, _ = await session_access(request, edit=True)
    body = await json_body(request)
    t = body.get("t")
    if not isinstance(t, (int, float)) or isinstance(t, bool) or not math.isfinite(t):
        raise ApiError(400, "bad_request", '{"t": <Unix seconds>} is required')
    _in_range(float(t), '"t"')
    source = await source_of(request)
    nb = await _notebook_at(source, float(t))
    try:
        nb = notebook.parse_ipynb(notebook.to_text(nb))
    except Exception as exc:
        raise ApiError(409, "invalid_notebook", f"the notebook at t is not valid: {exc}") from None
    hub = hub_of(request)
    rel = await hub.run_io(_write_beside, hub.settings.root, hub.store, record.path, float(t), nb)
    new, created = await hub.create_session(rel)
    if not created:  # someone made a session for that very name since: never hand theirs out
        raise ApiError(409, "exists", f"{rel} got a session of its own meanwhile; try again")
    result = links(hub, new, Access.EDIT)
    result["forked_from"] = {"id": record.id, "t": t}
    return JSONResponse(result, status_code=201)


def _write_beside(root: Path, store: Store, path: str, t: float, nb: notebook.NotebookJSON) -> str:
    """Write the notebook next to `path` under a name that says the moment; never overwrite a
    file, and never take a name that has a session (its file may be gone: the session stays,
    and creating a "new" one there would hand out that session's tokens)."""
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    name = moment_name(path, t)
    for n in range(1, 1000):
        candidate = folder + (name if n == 1 else name.replace(".ipynb", f"-{n}.ipynb"))
        rel, full = paths.normalize(root, candidate)
        if store.session_for_path(rel) is not None:
            continue
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
    retention = extension_of(request, Retention, "keeps no retention")
    policy = None
    if "days" in body or "bytes" in body:
        try:
            policy = policy_of(float(body.get("days") or 0), int(body.get("bytes") or 0))
        except (TypeError, ValueError):
            raise ApiError(400, "bad_request", "days and bytes must be numbers") from None
    session = body.get("session")
    rooms = [str(session)] if session else None
    return JSONResponse({"rooms": await retention.run(policy, rooms)})


read_routes = [
    Route("/api/sessions/{session_id}/recording", get_summary, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/notebook", get_notebook, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/events", get_events, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/export", get_export, methods=["GET"]),
    Route("/api/sessions/{session_id}/runs", get_runs, methods=["GET"]),
]
write_routes = [
    Route("/api/sessions/{session_id}/fork", fork, methods=["POST"]),
    Route("/api/retention", run_retention, methods=["POST"]),
]
