"""Who may come in: a session's named links, its two anonymous links, and deleting a session.

The owners of a session are the admin and its owners (`collabd.auth.owns`): signed-in users
who made it or were made owners, and, where nobody signs in, whoever holds an edit link
(anonymous or named). They create, list and revoke named links and replace the anonymous ones.
Deleting a session is for the admin (the token, or a signed-in admin user) alone. A named
link's token is shown once, when it is made; the store keeps its hash.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd import auth
from collabd.api.access import hub_of, require_admin_or_admin_user, session_caller
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.links import session_url
from collabd.cluster.node import OwnedElsewhere
from collabd.hub import Hub
from collabd.store import LinkRecord, SessionRecord
from collabd.store.base import LINK_ROLES
from collabd.sync.presence import MAX_NAME_CHARS, name_ok
from collabd.sync.wire import Close

log = logging.getLogger("collabd.sharing")

MAX_LINKS = 1000  # links not revoked, per session
MAX_EXPIRES_IN_S = 10 * 365 * 24 * 3600.0


def link_json(link: LinkRecord, now: float) -> dict[str, Any]:
    """A link as listed: never its token, nor its hash."""
    return {
        "id": link.id,
        "name": link.name,
        "role": link.role,
        "created": link.created,
        "expires": link.expires,
        "revoked": link.revoked,
        "last_seen": link.last_seen,
        "created_by": link.created_by,
        "status": auth.link_refusal(link, now) or "active",
    }


def _name(body: dict[str, Any]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(422, "bad_request", '"name" must be a non-empty string (who it is for)')
    name = name.strip()
    if not name_ok(name):
        raise ApiError(
            422,
            "bad_request",
            f'"name" must be at most {MAX_NAME_CHARS} characters, without control characters',
        )
    return name


def _role(body: dict[str, Any]) -> str:
    role = body.get("role")
    if role not in LINK_ROLES:
        raise ApiError(422, "bad_request", '"role" must be "edit" or "view"')
    assert isinstance(role, str)
    return role


def _expires_in(body: dict[str, Any]) -> float | None:
    value = body.get("expires_in_s")
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or not 0 < value <= MAX_EXPIRES_IN_S
    ):
        most = f"{MAX_EXPIRES_IN_S:.0f}"
        raise ApiError(
            422, "bad_request", f'"expires_in_s" must be a number of seconds in (0, {most}]'
        )
    return float(value)


async def on_owner(hub: Hub, record: SessionRecord) -> None:
    """In a cluster, changes that close connections run on the hub that owns the session (it
    holds every participant's connection, relayed ones too): raises OwnedElsewhere to forward."""
    if hub.cluster is None or hub.loaded(record.id) is not None:
        return
    lease = await hub.cluster.owner(record.id)
    if lease is not None and lease.live and lease.node != hub.cluster.node:
        raise OwnedElsewhere(lease)


async def create_link(request: Request) -> Response:
    record, caller = await session_caller(request, edit=True, own=True)
    body = await json_body(request)
    name, role, expires_in = _name(body), _role(body), _expires_in(body)
    hub = hub_of(request)
    now = time.time()
    current = await asyncio.to_thread(hub.store.links, record.id)
    if sum(1 for link in current if link.revoked is None) >= MAX_LINKS:
        detail = f"a session has at most {MAX_LINKS} links: revoke some"
        raise ApiError(409, "too_many_links", detail)
    token = auth.new_token()
    link = LinkRecord(
        id=auth.new_link_id(),
        session_id=record.id,
        name=name,
        role=role,
        token_hash=auth.token_hash(token),
        created=now,
        expires=now + expires_in if expires_in is not None else None,
        created_by=caller.link.id if caller.link is not None else None,
    )
    await hub.run_io(hub.store.add_link, link)
    log.info("session %s: %s link %s created", record.id, role, link.id)
    result = {
        "id": link.id,
        "name": link.name,
        "role": link.role,
        "created": link.created,
        "expires": link.expires,
        "url": session_url(hub, record, token),
        "token": token,
    }
    return JSONResponse(result, status_code=201, headers={"Cache-Control": "no-store"})


async def list_links(request: Request) -> Response:
    record, _ = await session_caller(request, edit=True, own=True)
    hub = hub_of(request)
    now = time.time()
    found = await asyncio.to_thread(hub.store.links, record.id)
    return JSONResponse({"links": [link_json(link, now) for link in found]})


async def revoke_link(request: Request) -> Response:
    """Revoke a link, and the links made with it (their holders got them from its holder);
    every connection that joined with one of them is closed with 4410 at once."""
    record, _ = await session_caller(request, edit=True, own=True)
    hub = hub_of(request)
    link_id = request.path_params["link_id"]
    every = await asyncio.to_thread(hub.store.links, record.id)
    if not any(link.id == link_id for link in every):
        raise ApiError(404, "not_found", "this session has no such link")
    await on_owner(hub, record)
    gone = _made_from(link_id, every)
    now = time.time()
    revoked: LinkRecord | None = None
    for one in gone:
        changed = await hub.run_io(hub.store.revoke_link, record.id, one, now)
        if one == link_id:
            revoked = changed
    closed = 0
    live = hub.loaded(record.id)
    if live is not None:
        closed = live.close_peers(
            lambda user: user.get("link") in gone, Close.LINK_REVOKED, "this link was revoked"
        )
    log.info(
        "session %s: link %s revoked (%d links, %d connections)",
        record.id,
        link_id,
        len(gone),
        closed,
    )
    assert revoked is not None
    return JSONResponse(
        {**link_json(revoked, now), "revoked_links": sorted(gone), "closed": closed}
    )


def _made_from(link_id: str, every: list[LinkRecord]) -> set[str]:
    """The link and every link made with it, and with those, and so on."""
    gone, frontier = {link_id}, [link_id]
    while frontier:
        parent = frontier.pop()
        for link in every:
            if link.created_by == parent and link.id not in gone:
                gone.add(link.id)
                frontier.append(link.id)
    return gone


async def rotate(request: Request) -> Response:
    """Replace the anonymous link of a role: the old token stops working, and connections that
    joined with it are closed with 4410."""
    record, _ = await session_caller(request, edit=True, own=True)
    body = await json_body(request)
    role = _role(body)
    hub = hub_of(request)
    await on_owner(hub, record)
    changed = await hub.replace_token(record, role)
    closed = 0
    live = hub.loaded(record.id)
    if live is not None:
        closed = live.close_peers(
            lambda user: user.get("access") == role and "link" not in user,
            Close.LINK_REVOKED,
            f"the {role} link was replaced",
        )
    token = changed.edit_token if role == "edit" else changed.view_token
    return JSONResponse(
        {"role": role, "token": token, "url": session_url(hub, changed, token), "closed": closed},
        headers={"Cache-Control": "no-store"},
    )


async def delete_session(request: Request) -> Response:
    """Admin only: the kernel stopped, the room unloaded, the history (log, snapshots, links)
    removed from the store; the notebook file kept unless `?delete_file=1`."""
    await require_admin_or_admin_user(request)
    hub = hub_of(request)
    record = await hub.session(request.path_params["session_id"], fresh=True)
    if record is None:
        raise ApiError(404, "not_found", "no such session")
    await on_owner(hub, record)
    delete_file = request.query_params.get("delete_file") in ("1", "true", "yes")
    await hub.delete_session(record)
    file_deleted = False
    if delete_file:
        path = hub.notebook_path(record)
        try:
            await asyncio.to_thread(path.unlink)
            file_deleted = True
        except FileNotFoundError:
            pass
    return JSONResponse({"id": record.id, "path": record.path, "file_deleted": file_deleted})


routes = [
    Route("/api/sessions/{session_id}", delete_session, methods=["DELETE"]),
    Route("/api/sessions/{session_id}/links", create_link, methods=["POST"]),
    Route("/api/sessions/{session_id}/links", list_links, methods=["GET"]),
    Route("/api/sessions/{session_id}/links/rotate", rotate, methods=["POST"]),
    Route("/api/sessions/{session_id}/links/{link_id}", revoke_link, methods=["DELETE"]),
]
