"""Editors change shared widgets through the hub (edit tokens only; view links change nothing).

`POST /api/sessions/{id}/widgets/{model_id}` `{"state"?, "buffers"?, "custom"?, "by"?}`: the
change goes to the kernel as the widget's comm message and into the document's `widgets` map at
once; a custom message (a button click) goes to the kernel only. Rate-limited per person like
chat (`WIDGET_RATE`).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd.api.access import caller_of, hub_of
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.kernel import _by, _session
from collabd.api.ratelimit import check_rate
from collabd.kernel.widgets import WidgetError, decode_buffers

_STATUS = {
    "unknown_widget": 404,
    "widget_gone": 409,
    "no_kernel": 409,
    "too_large": 413,
    "bad_request": 422,
}


def _check_rate(request: Request, client_id: Any) -> None:
    rate = hub_of(request).settings.widget_rate
    caller = caller_of(request)
    check_rate(request, caller, client_id, name="widget", rate=rate, what="widget changes")


def _change(body: dict[str, Any]) -> tuple[dict[str, Any], Any, bool]:
    unknown = set(body) - {"state", "buffers", "custom", "by"}
    if unknown:
        raise ApiError(422, "bad_request", f"unknown fields: {', '.join(sorted(unknown))}")
    state = body.get("state", {})
    if not isinstance(state, dict):
        raise ApiError(422, "bad_request", '"state" must be an object of the keys that change')
    fixed = sorted(k for k in state if k.startswith(("_model_", "_view_")))
    if fixed:
        raise ApiError(422, "bad_request", f"a widget's kind cannot change: {', '.join(fixed)}")
    if not state and not body.get("buffers") and "custom" not in body:
        raise ApiError(422, "bad_request", 'give "state", "buffers" or "custom"')
    return state, body.get("buffers"), "custom" in body


async def post(request: Request) -> Response:
    """`{"state"?, "buffers"?, "custom"?, "by"?}` (edit token) → `202 {"ok": true}` once the
    message went to the kernel."""
    session = await _session(request)
    body = await json_body(request)
    state, raw_buffers, has_custom = _change(body)
    by = _by(body, caller_of(request))
    model_id = request.path_params["model_id"]
    try:
        buffers = decode_buffers(raw_buffers)
        session.widgets.models.editable(model_id)
        _check_rate(request, by.get("client_id"))
        if has_custom:
            await session.widgets.update(model_id, state, buffers, body["custom"])
        else:
            await session.widgets.update(model_id, state, buffers)
    except WidgetError as exc:
        raise ApiError(_STATUS.get(exc.code, 409), exc.code, exc.detail) from None
    event = {"model_id": model_id, "by": by, "keys": sorted(state), "custom": has_custom}
    session.live.record_event("widget", event)
    return JSONResponse({"ok": True}, status_code=202)


routes = [Route("/api/sessions/{session_id}/widgets/{model_id}", post, methods=["POST"])]
