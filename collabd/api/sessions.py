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
    admin_or_user,
    extension_of,
    hub_of,
    resolve_user,
    session_access,
    session_caller,
    token_of,
)
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.links import links
from collabd.auth import Access, Caller, User, user_access
from collabd.disk import ipynb
from collabd.disk.disksync import DiskSync
from collabd.hub import Hub, NotANotebook
from collabd.paths import BadPath
from collabd.store import GrantRecord, SessionRecord


async def create_session(request: Request) -> Response:
    """The admin, or a signed-in user where `USERS_CAN_CREATE` is on: that user owns a session
    they create. A notebook that already has a session gives it back only to those it is
    shared with."""
    user = await admin_or_user(request)
    hub = hub_of(request)
    if user is not None and not (user.admin or hub.settings.users_can_create):
        raise ApiError(403, "forbidden", "only collabd's administrators create sessions here")
    body = await json_body(request)
    try:
        record, created, created_file = await hub.open_session(body.get("path"))
    except (BadPath, NotANotebook) as exc:  # NotANotebook: Jupyter could not open it either
        raise ApiError(400, "bad_path", str(exc)) from None
    status = 201 if created else 200
    if user is None:
        answer = {**links(hub, record, Access.ADMIN), "created_file": created_file}
        return JSONResponse(answer, status_code=status)
    if created:
        owner = GrantRecord(record.id, "user", user.name, "owner", time.time(), user.name)
        await hub.run_io(hub.store.put_grant, owner)
    _, caller = await resolve_user(hub, record.id, user, fresh=True)
    if caller is None:
        raise ApiError(
            403, "forbidden", "this notebook already has a session: ask its owners to share it"
        )
    answer = {**links(hub, record, caller.access, caller), "created_file": created_file}
    return JSONResponse(answer, status_code=status)


async def list_sessions(request: Request) -> Response:
    """Every session for the admin; for a signed-in user, those shared with them (their own
    among them), each with their role."""
    user = await admin_or_user(request)
    hub = hub_of(request)
    result = []
    for record, caller in await _visible(hub, user):
        item = links(hub, record, caller.access, caller if user is not None else None)
        live = hub.loaded(record.id)
        item["participants"] = live.peer_count if live else 0
        result.append(item)
    return JSONResponse(result)


async def _visible(hub: Hub, user: User | None) -> list[tuple[SessionRecord, Caller]]:
    if user is None or user.admin:
        every = await hub.sessions()
        caller = Caller(Access.ADMIN, user=user, owner=True)
        return [(record, caller) for record in every]
    grants = await asyncio.to_thread(hub.store.grants_for, user.name, user.groups)
    found = []
    for session_id in dict.fromkeys(g.session_id for g in grants):
        access = user_access(user, [g for g in grants if g.session_id == session_id])
        record = await hub.session(session_id, fresh=hub.cluster is not None)
        if record is not None and access is not None:
            found.append((record, Caller(access, user=user, owner=access is Access.OWNER)))
    return found


async def list_notebooks(request: Request) -> Response:
    """The home page's list: every notebook under the root, with its session if it has one."""
    user = await admin_or_user(request)
    hub = hub_of(request)
    if user is not None and not (user.admin or hub.settings.users_can_create):
        raise ApiError(403, "forbidden", "only collabd's administrators list the notebooks")
    files, cut = await asyncio.to_thread(
        notebooks.list_notebooks, hub.settings.root, hub.settings.data
    )
    # A user sees the sessions shared with them; another session's links stay its owners'.
    by_path = {record.path: (record, caller) for record, caller in await _visible(hub, user)}
    items = []
    for f in files:
        item: dict[str, Any] = {"path": f.path, "size": f.size, "modified": f.modified}
        found = by_path.get(f.path)
        if found is not None:
            record, caller = found
            live = hub.loaded(record.id)
            item["session"] = {
                **links(hub, record, caller.access, caller if user is not None else None),
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
