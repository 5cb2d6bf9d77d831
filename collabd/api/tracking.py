"""Tracked runs over HTTP: the experiments of a session and its tracking settings.

`read_routes` (the experiments) work on a live hub and on `collabd replay` alike (they read the
recording's run events); `write_routes` read and change the settings kept in the live notebook
(`metadata.collabd_tracking`, so they travel with the file).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd.api.access import hub_of, session_access
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.recording import source_of
from collabd.api.tables import table_response
from collabd.hub import NotANotebook
from collabd.recording import reader
from collabd.sync.liveroom import LiveRoom
from collabd.tracking import experiments, patterns
from collabd.tracking.tracker import declared_of, set_settings, settings_of


async def get_experiments(request: Request) -> Response:
    """Tracked runs (a batch as one), oldest first; `?format=csv` for a spreadsheet."""
    source = await source_of(request)
    runs = await source.run_io(reader.runs, source.store, source.record.id)
    found = experiments.experiments(runs)
    return table_response(
        request,
        source.record.path,
        "experiments",
        csv=lambda: experiments.to_csv(found),
        json=lambda: experiments.to_json_text(found),
        headers={"Cache-Control": "no-store"},
    )


async def _live(request: Request, *, edit: bool) -> LiveRoom:
    record, _ = await session_access(request, edit=edit)
    try:
        return await hub_of(request).room(record)
    except NotANotebook as exc:
        raise ApiError(409, "invalid_notebook", str(exc)) from None


def _describe(live: LiveRoom) -> dict[str, Any]:
    result = settings_of(live.doc).to_json()
    result["parameters"] = list(declared_of(live.doc).names)
    result["hub_tracking"] = bool(live.settings.track_runs)  # COLLABD_TRACK_RUNS
    return result


async def get_tracking(request: Request) -> Response:
    live = await _live(request, edit=False)
    return JSONResponse(_describe(live))


async def set_tracking(request: Request) -> Response:
    """`{"metrics": ["loss", "*_acc"]}` (null: the defaults again), `{"enabled": false}`."""
    live = await _live(request, edit=True)
    body = await json_body(request)
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key == "metrics":
            try:
                changes[key] = None if value is None else list(patterns.validate(value))
            except patterns.BadPatterns as exc:
                raise ApiError(422, "bad_request", str(exc)) from None
        elif key == "enabled":
            if not isinstance(value, bool):
                raise ApiError(422, "bad_request", "enabled must be true or false")
            changes[key] = value
        else:
            raise ApiError(400, "bad_request", f"unknown key {key!r} (known: metrics, enabled)")
    if not changes:
        raise ApiError(400, "bad_request", 'give "metrics" (a list of patterns) or "enabled"')

    def apply(doc: Any) -> None:
        set_settings(doc, changes)

    live.change("settings", apply)  # the file is saved with them
    await live.flush()
    return JSONResponse(_describe(live))


read_routes = [
    Route("/api/sessions/{session_id}/experiments", get_experiments, methods=["GET"]),
]
write_routes = [
    Route("/api/sessions/{session_id}/tracking", get_tracking, methods=["GET"]),
    Route("/api/sessions/{session_id}/tracking", set_tracking, methods=["POST"]),
]
