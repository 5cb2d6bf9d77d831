"""collabd's requests over the document's websocket, pure: read one, write its answer.

A request is JSON `{"id": <the sender's number>, "op": "<what>", ...}` in a `Message.REQUEST`
frame; the answer, to the sender only, is `{"id", "ok": true, ...}` or `{"id", "ok": false,
"status", "error", "detail"}` with the status and error code the same request over HTTP gets.
Sent on the connection that carries the sender's edits, a request comes after them: a run asked
for this way runs what the sender wrote, with no round trip to make sure of it first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from collabd.sync.room import PeerId, Role

log = logging.getLogger("collabd.sync.requests")
MAX_ID = 2**53  # a JavaScript number stays exact up to here


class RequestRefused(Exception):
    """What the sender is told instead: an HTTP-like status, an error code and why."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status, self.error, self.detail = status, error, detail


@dataclass(frozen=True, slots=True)
class Asked:
    """A request as its handler sees it: who sent it (`joined`: how they joined, as
    `LiveRoom.joined` says) and its fields, `id` and `op` taken out."""

    peer: PeerId
    role: Role
    joined: dict[str, Any]
    fields: dict[str, Any]


Handler = Callable[[Asked], dict[str, Any]]


def _object(body: bytes) -> dict[str, Any]:
    try:
        request = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        request = None
    if not isinstance(request, dict):
        raise RequestRefused(400, "bad_request", "a request is a JSON object")
    return request


def _id(value: Any) -> int:
    if type(value) is not int or not 0 <= value <= MAX_ID:
        raise RequestRefused(400, "bad_request", '"id" must be a non-negative integer')
    return value


def answer(rid: int | None, result: dict[str, Any]) -> bytes:
    return json.dumps({"id": rid, "ok": True, **result}, separators=(",", ":")).encode()


def refusal(rid: int | None, refused: RequestRefused) -> bytes:
    body = {"status": refused.status, "error": refused.error, "detail": refused.detail}
    return json.dumps({"id": rid, "ok": False, **body}, separators=(",", ":")).encode()


def handle(
    handlers: dict[str, Handler], peer: PeerId, role: Role, joined: dict[str, Any], body: bytes
) -> bytes:
    """The answer to one request frame's body (from `peer`, who joined as `joined` says),
    whatever it holds."""
    rid = None
    try:
        fields = _object(body)
        rid = _id(fields.pop("id", None))
        op = fields.pop("op", None)
        if not isinstance(op, str):
            raise RequestRefused(400, "bad_request", '"op" must be a string')
        handler = handlers.get(op)
        if handler is None:
            raise RequestRefused(404, "unknown_op", f"no request {op[:40]!r} here")
        return answer(rid, handler(Asked(peer, role, joined, fields)))
    except RequestRefused as refused:
        return refusal(rid, refused)
    except Exception:
        log.exception("a request from peer %s failed", peer)
        failed = RequestRefused(500, "internal_error", "the hub could not answer; see its log")
        return refusal(rid, failed)
