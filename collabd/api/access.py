"""Who is asking: the token of a request and what it may do with the session it names."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from collabd import logformat
from collabd.api.errors import ApiError
from collabd.auth import Access, access_for, can_edit
from collabd.hub import Hub
from collabd.store import SessionRecord


def hub_of(conn: HTTPConnection) -> Hub:
    hub: Hub = conn.app.state.hub
    return hub


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
    hub = hub_of(conn)
    token = token_of(conn, query_ok=conn.scope["type"] == "websocket" or not edit)
    if not token:
        raise ApiError(401, "unauthorized", "a session token is needed (Authorization: Bearer)")
    record = await hub.session(conn.path_params["session_id"])
    access = access_for(token, record, hub.admin_token)
    # A wrong token gets the same answer whether the session exists or not, so session ids
    # cannot be probed; only the admin learns that one does not exist.
    if access is None:
        raise ApiError(401, "unauthorized", "the token is not valid for this session")
    if record is None:
        raise ApiError(404, "not_found", "no such session")
    logformat.session_id.set(record.id)
    if edit and not can_edit(access):
        raise ApiError(403, "forbidden", "a view link cannot change anything")
    return record, access
