"""Request bodies: JSON objects of bounded size."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from collabd.api.errors import ApiError

MAX_JSON_BODY = 1024 * 1024


async def json_body(request: Request) -> dict[str, Any]:
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > MAX_JSON_BODY:
        raise ApiError(413, "too_large", f"request body over {MAX_JSON_BODY} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_JSON_BODY:
            raise ApiError(413, "too_large", f"request body over {MAX_JSON_BODY} bytes")
    request.state.raw_body = body  # kept for a request forwarded to another hub
    try:
        data = json.loads(body or b"{}")
    except ValueError as exc:
        raise ApiError(400, "bad_json", f"request body is not JSON: {exc}") from None
    except RecursionError:
        raise ApiError(400, "bad_json", "request body is nested too deeply") from None
    if not isinstance(data, dict):
        raise ApiError(422, "bad_request", "request body must be a JSON object")
    return data
