"""Running cells and controlling the session's kernel over HTTP (edit tokens only)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd.api.access import caller_of, extension_of, hub_of, session_access
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.auth import Caller
from collabd.kernel import runrequest
from collabd.kernel.execution import Execution
from collabd.kernel.queue import QueueError
from collabd.kernel.session import ExecutionError, SessionKernel
from collabd.sync.requests import RequestRefused

MAX_INPUT = 1024 * 1024

MAX_CODE = 1024 * 1024


async def _session(request: Request) -> SessionKernel:
    """The caller's session kernel, after checking its token may change things."""
    record, _ = await session_access(request, edit=True)
    hub = hub_of(request)
    execution = extension_of(request, Execution, "runs no kernels")
    live = await hub.room(record)
    try:
        return execution.session(live)
    except ExecutionError as exc:
        raise _api_error(exc) from None


def _api_error(exc: ExecutionError | QueueError) -> ApiError:
    return ApiError(runrequest.status_of(exc.code), exc.code, exc.detail)


def _by(body: dict[str, Any], caller: Caller | None = None) -> dict[str, Any]:
    """Who did it: the name the caller's named link or sign-in vouches for, else the body's."""
    name = caller.verified_name if caller is not None else None
    verified = (name, caller.identity()) if caller is not None and name is not None else None
    try:
        return runrequest.by_of(body, verified)
    except RequestRefused as exc:
        raise ApiError(exc.status, exc.error, exc.detail) from None


def _cell_ids(body: dict[str, Any]) -> tuple[list[str], bool]:
    try:
        return runrequest.cell_ids_of(body)
    except RequestRefused as exc:
        raise ApiError(exc.status, exc.error, exc.detail) from None


async def execute(request: Request) -> Response:
    session = await _session(request)
    body = await json_body(request)
    cell_ids, is_list = _cell_ids(body)
    try:
        requests = session.submit(cell_ids, _by(body, caller_of(request)))
    except ExecutionError as exc:
        raise _api_error(exc) from None
    result: dict[str, Any] = {"request_id": requests[0].request_id}
    if is_list:
        result.update(request_ids=[r.request_id for r in requests], batch_id=requests[0].batch_id)
    return JSONResponse(result, status_code=202)


async def cancel(request: Request) -> Response:
    session = await _session(request)
    body = await json_body(request)
    try:
        by = _by(body, caller_of(request))
        cancelled = session.cancel(request.path_params["request_id"], by)
    except QueueError as exc:
        raise _api_error(exc) from None
    return JSONResponse({"request_id": cancelled.request_id, "status": "cancelled"})


async def interrupt(request: Request) -> Response:
    session = await _session(request)
    body = await json_body(request)
    try:
        await session.interrupt(_by(body, caller_of(request)))
    except ExecutionError as exc:
        raise _api_error(exc) from None
    return JSONResponse({"status": session.status})


async def restart(request: Request) -> Response:
    session = await _session(request)
    body = await json_body(request)
    await session.restart(_by(body, caller_of(request)))
    return JSONResponse({"status": session.status})


async def answer_input(request: Request) -> Response:
    session = await _session(request)
    body = await json_body(request)
    request_id, value = body.get("request_id"), body.get("value")
    if not isinstance(request_id, str) or not isinstance(value, str):
        raise ApiError(422, "bad_request", '"request_id" and "value" must be strings')
    if len(value) > MAX_INPUT:
        raise ApiError(413, "too_large", f"an answer is at most {MAX_INPUT} characters")
    try:
        session.answer_input(request_id, value)
    except ExecutionError as exc:
        raise _api_error(exc) from None
    return JSONResponse({"request_id": request_id, "status": "answered"})


def _code_and_cursor(body: dict[str, Any]) -> tuple[str, int]:
    code, cursor = body.get("code"), body.get("cursor_pos")
    if not isinstance(code, str) or len(code) > MAX_CODE:
        raise ApiError(422, "bad_request", f'"code" must be a string of at most {MAX_CODE}')
    if cursor is None:
        cursor = len(code)
    if type(cursor) is not int or not 0 <= cursor <= len(code):
        raise ApiError(422, "bad_request", '"cursor_pos" must be a position in "code"')
    return code, cursor


async def complete(request: Request) -> Response:
    """Completions from the shared kernel, for the asker only (nothing goes in the document)."""
    session = await _session(request)
    code, cursor = _code_and_cursor(await json_body(request))
    try:
        return JSONResponse(await session.complete(code, cursor))
    except ExecutionError as exc:
        raise _api_error(exc) from None


async def inspect(request: Request) -> Response:
    """What the kernel says of the name at the cursor (Shift-Tab), for the asker only."""
    session = await _session(request)
    body = await json_body(request)
    code, cursor = _code_and_cursor(body)
    detail = body.get("detail_level", 0)
    if detail not in (0, 1):
        raise ApiError(422, "bad_request", '"detail_level" must be 0 or 1')
    try:
        return JSONResponse(await session.inspect(code, cursor, detail))
    except ExecutionError as exc:
        raise _api_error(exc) from None


routes = [
    Route("/api/sessions/{session_id}/execute", execute, methods=["POST"]),
    Route("/api/sessions/{session_id}/queue/{request_id}", cancel, methods=["DELETE"]),
    Route("/api/sessions/{session_id}/kernel/interrupt", interrupt, methods=["POST"]),
    Route("/api/sessions/{session_id}/kernel/restart", restart, methods=["POST"]),
    Route("/api/sessions/{session_id}/input", answer_input, methods=["POST"]),
    Route("/api/sessions/{session_id}/complete", complete, methods=["POST"]),
    Route("/api/sessions/{session_id}/inspect", inspect, methods=["POST"]),
]
