"""Shared pieces of the HTTP API: the error form, token checks, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse

from collabd.auth import Access, access_for, can_edit
from collabd.hub import Hub
from collabd.store import SessionRecord

MAX_JSON_BODY = 1024 * 1024


class ApiError(Exception):
    """An error a client caused; rendered as {"error", "detail"} with `status`."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "detail": self.detail}, status_code=self.status)


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
    if access_for(token_of(conn), None, hub_of(conn).admin_token) is not Access.ADMIN:
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
    if record is None:
        raise ApiError(404, "not_found", "no such session")
    if access is None:
        raise ApiError(401, "unauthorized", "the token is not valid for this session")
    if edit and not can_edit(access):
        raise ApiError(403, "forbidden", "a view link cannot change anything")
    return record, access


async def json_body(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_JSON_BODY:
        raise ApiError(413, "too_large", f"request body over {MAX_JSON_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BODY:
            raise ApiError(413, "too_large", f"request body over {MAX_JSON_BODY} bytes")
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, "bad_json", f"request body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "bad_request", "request body must be a JSON object")
    return data


def links(hub: Hub, record: SessionRecord, access: Access) -> dict[str, Any]:
    base = hub.settings.base_url
    result: dict[str, Any] = {
        "id": record.id,
        "path": record.path,
        "created": record.created,
        "role": str(access),
        "view_url": f"{base}/s/{record.id}#token={record.view_token}",
        "replay_url": f"{base}/s/{record.id}/replay#token={record.view_token}",
        "ws_url": f"{base.replace('http', 'ws', 1)}/ws/{record.id}",
    }
    if can_edit(access):
        result.update(
            edit_token=record.edit_token,
            view_token=record.view_token,
            edit_url=f"{base}/s/{record.id}#token={record.edit_token}",
        )
    return result
