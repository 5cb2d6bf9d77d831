"""The ASGI application: routes from each API module around one hub."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from collabd.api import kernel as api_kernel
from collabd.api import recording as api_recording
from collabd.api import sessions as api_sessions
from collabd.api import web as api_web
from collabd.api import ws as api_ws
from collabd.api.common import ApiError
from collabd.disk.disksync import DiskSync
from collabd.extension import Extension
from collabd.hub import Hub
from collabd.kernel.execution import Execution
from collabd.recording.retention import Retention
from collabd.settings import Settings
from collabd.store import SQLiteStore, Store
from collabd.sync.wspeer import KeepRawSend

log = logging.getLogger("collabd")


def build_hub(settings: Settings, store: Store | None = None) -> Hub:
    """The hub with the default extensions, in the order their hooks run."""
    store = store if store is not None else SQLiteStore(settings.db_path)
    hub = Hub(settings, store)
    hub.extensions.extend(default_extensions(hub))
    return hub


def default_extensions(hub: Hub) -> list[Extension]:
    return [DiskSync(hub.notebook_path), Retention(hub), Execution(hub)]


def api_routes() -> list[BaseRoute]:
    return [
        *api_sessions.routes,
        *api_recording.routes,
        *api_kernel.routes,
        *api_ws.routes,
        *api_web.routes,
    ]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "not_found", "detail": f"no route for {request.url.path}"}, 404)


def create_app(settings: Settings, hub: Hub | None = None) -> Starlette:
    if not settings.token:
        raise ValueError("settings.token (the admin token) must be set")
    hub = hub if hub is not None else build_hub(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.stop()

    app = Starlette(
        routes=api_routes(),
        middleware=[Middleware(KeepRawSend)],
        lifespan=lifespan,
        exception_handlers={ApiError: _api_error, 404: _not_found},
    )
    app.state.hub = hub
    return app
