"""`GET /api/health`: the hub answers, with its version and what it serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd import __version__

# Each app sets `app.state.health` to a callable giving the fields it adds to the answer.
HealthFields = Callable[[], dict[str, Any]]


async def health(request: Request) -> Response:
    """200 while this hub can serve; 503 (for load balancers) when its fields say `"ok": false`
    (the store is failing, or in a cluster Redis or PostgreSQL is down)."""
    fields: HealthFields = request.app.state.health
    body = {"ok": True, "version": __version__, **fields()}
    return JSONResponse(body, status_code=200 if body["ok"] else 503)


routes = [Route("/api/health", health)]
