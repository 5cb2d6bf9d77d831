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
    fields: HealthFields = request.app.state.health
    return JSONResponse({"ok": True, "version": __version__, **fields()})


routes = [Route("/api/health", health)]
