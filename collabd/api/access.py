"""Who is asking: the token of a request and what it may do with the session it names."""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar

from starlette.requests import HTTPConnection

from collabd import auth, logformat
from collabd.api.errors import ApiError
from collabd.auth import Access, Caller, access_for, can_edit
from collabd.extension import Extension
from collabd.hub import Hub
from collabd.store import LinkRecord, SessionRecord

E = TypeVar("E", bound=Extension)


def hub_of(conn: HTTPConnection) -> Hub:
    hub: Hub = conn.app.state.hub
    return hub


def extension_of(conn: HTTPConnection, kind: type[E], missing: str) -> E:
    """The hub's extension of that type, or a 409 saying what this hub does not do."""
    try:
        return hub_of(conn).extension(kind)
    except LookupError:
        raise ApiError(409, "not_available", f"this hub {missing}") from None


def token_of(conn: HTTPConnection, *, query_ok: bool = True) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.query_params.get("token") if query_ok else None


def require_admin(conn: HTTPConnection) -> None:
    # Header only: a `?token=` ends up in access logs, proxies' logs and shell history.
    token = token_of(conn, query_ok=False)
    if access_for(token, None, hub_of(conn).admin_token) is not Access.ADMIN:
        raise ApiError(401, "unauthorized", "this needs the admin token (Authorization: Bearer)")


async def session_access(
    conn: HTTPConnection, *, edit: bool = False
) -> tuple[SessionRecord, Access]:
    """The session named in the path and what the caller's token may do with it."""
    record, caller = await session_caller(conn, edit=edit)
    return record, caller.access


async def session_caller(
    conn: HTTPConnection, *, edit: bool = False
) -> tuple[SessionRecord, Caller]:
    """The session named in the path and who is asking: the access of the caller's token and
    the named link it is, if it is one."""
    hub = hub_of(conn)
    token = token_of(conn, query_ok=conn.scope["type"] == "websocket" or not edit)
    if not token:
        raise ApiError(401, "unauthorized", "a session token is needed (Authorization: Bearer)")
    record, caller = await resolve(hub, conn.path_params["session_id"], token)
    # A wrong token gets the same answer whether the session exists or not, so session ids
    # cannot be probed; only the admin learns that one does not exist.
    if caller is None:
        raise ApiError(401, "unauthorized", "the token is not valid for this session")
    if record is None:
        raise ApiError(404, "not_found", "no such session")
    logformat.session_id.set(record.id)
    conn.state.caller = caller
    if edit and not can_edit(caller.access):
        raise ApiError(403, "forbidden", "a view link cannot change anything")
    return record, caller


async def resolve(
    hub: Hub, session_id: str, token: str, *, fresh: bool = False
) -> tuple[SessionRecord | None, Caller | None]:
    """The session and what `token` may do with it (None: nothing). A revoked or expired named
    link raises its own 401 (`link_revoked`, `link_expired`): only its holder can learn that.

    In a cluster the session is read from the store each time (another hub may have rotated
    its links); `fresh` asks for that on one hub too."""
    record = await hub.session(session_id, fresh=fresh or hub.cluster is not None)
    access = access_for(token, record, hub.admin_token)
    if access is not None:
        return record, Caller(access)
    if record is None:
        return None, None
    link = await find_link(hub, record.id, token)
    if link is None:
        return record, None
    refusal = auth.link_refusal(link, time.time())
    if refusal == "revoked":
        raise ApiError(401, "link_revoked", "this link was revoked")
    if refusal == "expired":
        raise ApiError(401, "link_expired", "this link expired")
    return record, Caller(Access(link.role), link)


async def find_link(hub: Hub, session_id: str, token: str) -> LinkRecord | None:
    """The session's named link whose token this is (revoked and expired ones too)."""
    found = await asyncio.to_thread(hub.store.link_by_hash, session_id, auth.token_hash(token))
    return found if auth.link_matches(token, found) else None


def caller_of(conn: HTTPConnection) -> Caller:
    """Who asked, once `session_caller` (or `session_access`) checked the request."""
    caller: Caller = conn.state.caller
    return caller
