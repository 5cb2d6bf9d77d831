"""Sharing a session with signed-in users and JupyterHub groups: grant a role (owner, edit,
view), list, take away. Only the session's owners may. Taking a grant away (or lowering it)
closes the connections that joined with more than is left, with 4410, at once."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd.api.access import hub_of, session_caller
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.sharing import on_owner
from collabd.auth import Access, User, rank, user_access
from collabd.hub import Hub
from collabd.store import GrantRecord, SessionRecord
from collabd.store.base import GRANT_ROLES
from collabd.sync.presence import MAX_NAME_CHARS, name_ok
from collabd.sync.wire import Close

log = logging.getLogger("collabd.sharing")

MAX_GRANTS = 1000  # per session
_KINDS = {"users": "user", "groups": "group"}


def grant_json(grant: GrantRecord) -> dict[str, Any]:
    return {
        grant.kind: grant.name,
        "role": grant.role,
        "created": grant.created,
        "created_by": grant.created_by,
    }


def _who(body: dict[str, Any]) -> tuple[str, str]:
    given = [kind for kind in ("user", "group") if kind in body]
    if len(given) != 1:
        raise ApiError(422, "bad_request", 'give exactly one of "user" or "group"')
    kind = given[0]
    name = body[kind]
    if not isinstance(name, str) or not name.strip() or not name_ok(name.strip()):
        raise ApiError(
            422,
            "bad_request",
            f'"{kind}" must be a name of at most {MAX_NAME_CHARS} characters,'
            " without control characters",
        )
    return kind, name.strip()


def _role(body: dict[str, Any]) -> str:
    role = body.get("role")
    if role not in GRANT_ROLES:
        raise ApiError(422, "bad_request", '"role" must be "owner", "edit" or "view"')
    assert isinstance(role, str)
    return role


async def create(request: Request) -> Response:
    """`{"user" | "group", "role"}` → `201` the grant (granting again changes the role)."""
    record, caller = await session_caller(request, edit=True, own=True)
    body = await json_body(request)
    kind, name = _who(body)
    role = _role(body)
    hub = hub_of(request)
    current = await asyncio.to_thread(hub.store.grants, record.id)
    if len(current) >= MAX_GRANTS and not any(g.kind == kind and g.name == name for g in current):
        raise ApiError(409, "too_many_grants", f"a session has at most {MAX_GRANTS} grants")
    await on_owner(hub, record)
    by = caller.user.name if caller.user is not None else None
    grant = GrantRecord(record.id, kind, name, role, time.time(), by)
    await hub.run_io(hub.store.put_grant, grant)
    closed = await _recheck(hub, record)
    log.info("session %s: %s %s granted %s", record.id, kind, name, role)
    return JSONResponse({**grant_json(grant), "closed": closed}, status_code=201)


async def listing(request: Request) -> Response:
    record, _ = await session_caller(request, edit=True, own=True)
    hub = hub_of(request)
    found = await asyncio.to_thread(hub.store.grants, record.id)
    return JSONResponse({"grants": [grant_json(g) for g in found]})


async def remove(request: Request) -> Response:
    record, _ = await session_caller(request, edit=True, own=True)
    kind = _KINDS.get(request.path_params["kind"])
    if kind is None:
        raise ApiError(404, "not_found", "grants are under /grants/users/ or /grants/groups/")
    name = request.path_params["name"]
    hub = hub_of(request)
    await on_owner(hub, record)
    if not await hub.run_io(hub.store.remove_grant, record.id, kind, name):
        raise ApiError(404, "not_found", f"this session is not shared with that {kind}")
    closed = await _recheck(hub, record)
    log.info("session %s: %s %s's grant taken away (%d connections)", record.id, kind, name, closed)
    return JSONResponse({kind: name, "removed": True, "closed": closed})


async def _recheck(hub: Hub, record: SessionRecord) -> int:
    """Close the signed-in users' connections that now have less than they joined with."""
    live = hub.loaded(record.id)
    if live is None:
        return 0
    grants = await asyncio.to_thread(hub.store.grants, record.id)

    def lost(joined: dict[str, Any]) -> bool:
        name, access = joined.get("user"), joined.get("access")
        if not isinstance(name, str) or "link" in joined or access == Access.ADMIN:
            return False
        groups = tuple(str(g) for g in joined.get("groups") or ())
        now = user_access(User(name, groups=groups), grants)
        return rank(now) < rank(Access(access)) if access in set(Access) else True

    return live.close_peers(lost, Close.LINK_REVOKED, "your access to this session was changed")


routes = [
    Route("/api/sessions/{session_id}/grants", create, methods=["POST"]),
    Route("/api/sessions/{session_id}/grants", listing, methods=["GET"]),
    Route("/api/sessions/{session_id}/grants/{kind}/{name}", remove, methods=["DELETE"]),
]
