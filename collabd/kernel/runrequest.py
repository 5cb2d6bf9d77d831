"""A run request's fields, checked the same way whether it came over HTTP or the websocket."""

from __future__ import annotations

from typing import Any

from collabd.chatguard import identity_of
from collabd.sync.requests import RequestRefused

MAX_NAME = 200
MAX_CELLS = 10_000
# the HTTP status of each refusal of the queue or the kernel (ExecutionError, QueueError codes)
_STATUS = {
    "unknown_cell": 404,
    "unknown": 404,
    "not_code": 422,
    "running": 409,
    "finished": 409,
    "no_kernel": 409,
    "no_input": 409,
    "closing": 409,
    "not_loaded": 409,
    "queue_full": 429,
    "kernel_busy": 409,
    "kernel_error": 422,
}


def status_of(code: str) -> int:
    return _STATUS.get(code, 409)


def cell_ids_of(body: dict[str, Any]) -> tuple[list[str], bool]:
    """The cells to run and whether they were given as a list (a batch)."""
    if ("cell_id" in body) == ("cell_ids" in body):
        raise _bad('give exactly one of "cell_id" or "cell_ids"')
    if "cell_id" in body:
        if not isinstance(body["cell_id"], str) or not body["cell_id"]:
            raise _bad('"cell_id" must be a non-empty string')
        return [body["cell_id"]], False
    ids = body["cell_ids"]
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise _bad('"cell_ids" must be a non-empty list of cell ids')
    if len(ids) > MAX_CELLS:
        raise _bad(f"at most {MAX_CELLS} cells per request")
    return ids, True


def by_of(body: dict[str, Any], verified: tuple[str, dict[str, Any]] | None) -> dict[str, Any]:
    """Who did it. `verified`: the name the hub vouches for (a named link's, a signed-in
    user's) and how (`link_id` or `user`, `verified`: true), which wins over what the body
    says; otherwise the name is the body's claim (`verified`: false)."""
    by = body.get("by")
    if by is None:
        by = {}
    if not isinstance(by, dict):
        raise _bad('"by" must be an object {"name", "client_id"}')
    name, client_id = by.get("name", "someone"), by.get("client_id")
    if not isinstance(name, str) or len(name) > MAX_NAME:
        raise _bad(f'"by.name" must be a string of at most {MAX_NAME}')
    if client_id is not None and (type(client_id) is not int or client_id < 0):
        raise _bad('"by.client_id" must be a Yjs client id (an integer)')
    if verified is not None:
        return {"name": verified[0], "client_id": client_id, **verified[1]}
    return {"name": name, "client_id": client_id, "verified": False}


def verified_by_join(joined: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The vouched-for name of a websocket peer, from how it joined (`LiveRoom.joined`), as
    the chat guard reads it."""
    who = identity_of(joined, [], set())
    if not who.verified:
        return None
    how = {"user": who.user} if who.user is not None else {"link_id": who.link_id}
    return who.name, {**how, "verified": True}


def _bad(detail: str) -> RequestRefused:
    return RequestRefused(422, "bad_request", detail)
