"""Chat and cell comments over HTTP.

Editors' pages write the document's `chat` array themselves; a view link cannot write the
document, so its holder posts here and the hub writes the message as the hub (`live.change`).
Hiding and resolving are an editor's, here too. The messages as they were at a moment come from
the recording (`read_routes`, also on `collabd replay`).
"""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd import chat, chatredact
from collabd.api.access import hub_of, session_caller
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.ratelimit import check_rate
from collabd.api.recording import _time, source_of
from collabd.auth import Caller
from collabd.hub import NotANotebook
from collabd.recording import history, reader
from collabd.sync.liveroom import LiveRoom

ORIGIN = "chat"


def _check_rate(request: Request, caller: Caller, body: dict[str, Any]) -> None:
    rate = hub_of(request).settings.chat_rate
    check_rate(request, caller, body.get("client_id"), name="chat", rate=rate, what="messages")


async def _live(request: Request, *, edit: bool) -> tuple[LiveRoom, Caller]:
    record, caller = await session_caller(request, edit=edit)
    try:
        live = await hub_of(request).room(record)
    except NotANotebook as exc:
        raise ApiError(409, "invalid_notebook", str(exc)) from None
    return live, caller


def _api_error(exc: chat.ChatError) -> ApiError:
    return ApiError(exc.status, exc.code, exc.detail)


def _write(live: LiveRoom, edit: Any) -> None:
    try:
        live.change(ORIGIN, edit)
    except chat.ChatError as exc:
        raise _api_error(exc) from None


async def post(request: Request) -> Response:
    """`{"text", "cell_id"?, "reply_to"?, "name"?, "client_id"?}` (edit or view token) →
    `201 {"message"}`, written into the document by the hub."""
    live, caller = await _live(request, edit=False)
    body = await json_body(request)
    settings = hub_of(request).settings
    try:
        message = chat.compose(
            live.doc,
            body,
            verified_name=caller.verified_name,
            link_id=caller.link.id if caller.link is not None else None,
            user=caller.user.name if caller.user is not None and caller.link is None else None,
            max_chars=settings.chat_max_chars,
        )
    except chat.ChatError as exc:
        raise _api_error(exc) from None
    _check_rate(request, caller, body)
    _write(live, lambda doc: chat.append(doc, message))
    await live.flush()
    return JSONResponse({"message": message}, status_code=201)


async def hide(request: Request) -> Response:
    """Hide a message (edit token): everyone sees "hidden by an editor" in its place."""
    live, caller = await _live(request, edit=True)
    body = await json_body(request)
    name = caller.verified_name or _claimed(body)
    message_id = request.path_params["message_id"]
    result: dict[str, Any] = {}

    def edit(doc: Any) -> None:
        result["message"] = chat.update(doc, message_id, lambda m: chat.hidden(m, name))

    _write(live, edit)
    await live.flush()
    return JSONResponse(result)


async def resolve(request: Request) -> Response:
    """`{"resolved": bool}` (edit token): a thread resolved or reopened."""
    live, _ = await _live(request, edit=True)
    body = await json_body(request)
    value = body.get("resolved", True)
    if not isinstance(value, bool):
        raise ApiError(422, "bad_request", '"resolved" must be true or false')
    message_id = request.path_params["message_id"]
    result: dict[str, Any] = {}

    def edit(doc: Any) -> None:
        result["message"] = chat.update(doc, message_id, lambda m: chat.resolved(m, value))

    _write(live, edit)
    await live.flush()
    return JSONResponse(result)


def _claimed(body: dict[str, Any]) -> str:
    by = body.get("by")
    raw = by.get("name") if isinstance(by, dict) else body.get("name")
    try:
        return chat.clean_name(raw)
    except chat.ChatError as exc:
        raise _api_error(exc) from None


async def at_moment(request: Request) -> Response:
    """`GET …/recording/chat?t=` (edit or view token): the messages as they were at `t`
    (default: the end), from the recording; a message hidden since has no text (but for the
    admin)."""
    source = await source_of(request)
    t = _time(request, "t", time.time())

    found = await source.rebuild_io(reader.chat_at, source.store, source.record.id, t)
    if source.hidden is not None and (hidden := await source.hidden()):
        found = chatredact.redact_messages(found, hidden)  # hidden since: no text, at any t
    return JSONResponse({"t": t, "messages": found}, headers={"Cache-Control": "no-store"})


async def search(request: Request) -> Response:
    """`GET …/recording/search?q=` (edit or view token): the runs (code, output) and the chat
    messages (text, sender) that hold `q`, one list by time, each a moment to jump to."""
    source = await source_of(request)
    query = (request.query_params.get("q") or "").strip()
    if not query:
        raise ApiError(400, "bad_request", "?q= (the words to look for) is required")

    found_runs = await source.run_io(reader.runs, source.store, source.record.id)
    runs = history.search(found_runs, history.RunQuery(text=query))
    messages = await source.rebuild_io(reader.chat_at, source.store, source.record.id, time.time())
    results: list[dict[str, Any]] = [
        {"kind": "run", "t": run.started or run.queued_at or run.ended, "run": run.to_json()}
        for run in runs
    ]
    results += [
        {"kind": "message", "t": m.get("at"), "message": m} for m in chat.matching(messages, query)
    ]
    results.sort(key=lambda r: r["t"] if isinstance(r["t"], int | float) else 0.0)
    return JSONResponse({"q": query, "results": results}, headers={"Cache-Control": "no-store"})


read_routes = [
    Route("/api/sessions/{session_id}/recording/chat", at_moment, methods=["GET"]),
    Route("/api/sessions/{session_id}/recording/search", search, methods=["GET"]),
]
routes = [
    Route("/api/sessions/{session_id}/chat", post, methods=["POST"]),
    Route("/api/sessions/{session_id}/chat/{message_id}/hide", hide, methods=["POST"]),
    Route("/api/sessions/{session_id}/chat/{message_id}/resolve", resolve, methods=["POST"]),
    *read_routes,
]
