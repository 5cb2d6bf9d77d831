"""Sessions and the notebook over HTTP."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd import chat, notebook, notebooks
from collabd.api.access import (
    extension_of,
    hub_of,
    require_admin,
    session_access,
    session_caller,
    token_of,
)
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.links import links
from collabd.auth import Access
from collabd.disk import ipynb
from collabd.disk.disksync import DiskSync
from collabd.hub import NotANotebook
from collabd.paths import BadPath


async def create_session(request: Request) -> Response:
    require_admin(request)
    body = await json_body(request)
    hub = hub_of(request)
    try:
        record, created = await hub.create_session(body.get("path"))
    except (BadPath, NotANotebook) as exc:  # NotANotebook: Jupyter could not open it either
        raise ApiError(400, "bad_path", str(exc)) from None
    return JSONResponse(links(hub, record, Access.ADMIN), status_code=201 if created else 200)


async def list_sessions(request: Request) -> Response:
    require_admin(request)
    hub = hub_of(request)
    result = []
    for record in await hub.sessions():
        item = links(hub, record, Access.ADMIN)
        live = hub.loaded(record.id)
        item["participants"] = live.peer_count if live else 0
        result.append(item)
    return JSONResponse(result)


async def list_notebooks(request: Request) -> Response:
    """The home page's list: every notebook under the root, with its session if it has one."""
    require_admin(request)
    hub = hub_of(request)
    files, cut = await asyncio.to_thread(
        notebooks.list_notebooks, hub.settings.root, hub.settings.data
    )
    by_path = {record.path: record for record in await hub.sessions()}
    items = []
    for f in files:
        item: dict[str, Any] = {"path": f.path, "size": f.size, "modified": f.modified}
        record = by_path.get(f.path)
        if record is not None:
            live = hub.loaded(record.id)
            item["session"] = {
                **links(hub, record, Access.ADMIN),
                "participants": live.peer_count if live else 0,
            }
        items.append(item)
    return JSONResponse({"root": hub.settings.root.name, "notebooks": items, "truncated": cut})


async def get_session(request: Request) -> Response:
    record, caller = await session_caller(request)
    token = token_of(request) or ""
    return JSONResponse(links(hub_of(request), record, caller.access, caller, token))


async def get_notebook(request: Request) -> Response:
    record, _ = await session_access(request)
    try:
        live = await hub_of(request).room(record)
    except NotANotebook as exc:
        raise ApiError(409, "invalid_notebook", str(exc)) from None
    await live.flush()
    nb = notebook.to_json(live.doc)
    if request.query_params.get("comments") in ("1", "true"):  # asked for, never by default
        nb = chat.with_comments(nb, chat.messages(live.doc))
    try:  # as the file holds it: its format, without collabd's bookkeeping (outputs kept)
        text = ipynb.write(nb, ipynb.format_of(live.doc))
    except Exception as exc:
        raise ApiError(
            409, "invalid_notebook", f"the shared notebook is not valid: {exc}"
        ) from None
    headers = {"Cache-Control": "no-store"}
    if request.query_params.get("download"):
        name = record.path.rsplit("/", 1)[-1].replace('"', "")
        headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return Response(text, media_type="application/x-ipynb+json", headers=headers)


async def save(request: Request) -> Response:
    """Write the .ipynb now (Ctrl-S), after merging any outside change to the file."""
    record, _ = await session_access(request, edit=True)
    hub = hub_of(request)
    disk = extension_of(request, DiskSync, "does not keep notebooks on disk")
    live = await hub.room(record)
    await disk.save_now(live)
    return JSONResponse({"path": record.path, "saved_at": time.time()})


routes = [
    Route("/api/sessions", create_session, methods=["POST"]),
    Route("/api/sessions", list_sessions, methods=["GET"]),
    Route("/api/notebooks", list_notebooks, methods=["GET"]),
    Route("/api/sessions/{session_id}", get_session, methods=["GET"]),
    Route("/api/sessions/{session_id}/notebook", get_notebook, methods=["GET"]),
    Route("/api/sessions/{session_id}/save", save, methods=["POST"]),
]
