"""Structured logs (`COLLABD_LOG_FORMAT=json`): one JSON object per line, for log shippers.

Each line carries the time, level, logger and message, and — where known — the session, the
request and this hub's node id, read from context variables that the HTTP and websocket edges
set for the work they start.
"""

from __future__ import annotations

import json
import logging
import uuid
from contextvars import ContextVar

from starlette.types import ASGIApp, Receive, Scope, Send

session_id: ContextVar[str | None] = ContextVar("collabd_session", default=None)
request_id: ContextVar[str | None] = ContextVar("collabd_request", default=None)
_LOGGERS = ("", "uvicorn", "uvicorn.access", "uvicorn.error")


class JsonFormatter(logging.Formatter):
    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": round(record.created, 6),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "node": self.node,
        }
        for key, var in (("session", session_id), ("request", request_id)):
            value = var.get()
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def use_json(node: str) -> None:
    """Every handler of ours and uvicorn's writes JSON from now on (call after uvicorn set its
    logging up, as the token redaction does)."""
    formatter = JsonFormatter(node)
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            handler.setFormatter(formatter)


class RequestIds:
    """ASGI middleware: each request or websocket gets an id (the client's `X-Request-Id` when
    it sends a reasonable one), in the logs of everything it causes."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        ok = 0 < len(given) <= 64 and given.replace("-", "").isalnum()
        token = request_id.set(given if ok else uuid.uuid4().hex[:16])
        try:
            await self.app(scope, receive, send)
        finally:
            request_id.reset(token)
