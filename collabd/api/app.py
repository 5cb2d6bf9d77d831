"""The two ASGI apps, built from the same named routers and one errors module.

The live app serves a hub: sessions, kernel, recording (read and write), the websocket, pages and
assets. The replay app (`collabd replay FILE`) serves one exported recording read-only: the
recording's read routes, the session it holds, the playback page and the same assets (so HTML
outputs render there as they do live).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from collabd.api import health, kernel, recording, replay, sessions, web, ws
from collabd.api.errors import HANDLERS
from collabd.api.sources import LiveSources, ReplaySources
from collabd.disk.disksync import DiskSync
from collabd.extension import Extension
from collabd.hub import Hub
from collabd.kernel.execution import Execution
from collabd.recording.file import Recording
from collabd.recording.retention import Retention
from collabd.settings import Settings
from collabd.store import SQLiteStore, Store
from collabd.sync.wspeer import KeepRawSend


def build_hub(settings: Settings, store: Store | None = None) -> Hub:
    """The hub with the default extensions, in the order their hooks run."""
    store = store if store is not None else SQLiteStore(settings.db_path)
    hub = Hub(settings, store)
    hub.hooks.add(*default_extensions(hub))
    return hub


def default_extensions(hub: Hub) -> list[Extension]:
    return [DiskSync(hub.notebook_path), Retention(hub), Execution(hub)]


def live_routes() -> list[BaseRoute]:
    return [
        *sessions.routes,
        *recording.read_routes,
        *recording.write_routes,
        *kernel.routes,
        *ws.routes,
        *health.routes,
        *web.live_pages,
        *web.replay_pages,
        *web.assets,
    ]


def replay_routes() -> list[BaseRoute]:
    return [
        *replay.routes,
        *recording.read_routes,
        *health.routes,
        *web.replay_pages,
        *web.assets,
    ]


def create_app(settings: Settings, hub: Hub | None = None) -> Starlette:
    if not settings.token:
        raise ValueError("settings.token (the admin token) must be set")
    live = hub if hub is not None else build_hub(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await live.start()
        try:
            yield
        finally:
            await live.stop()

    app = Starlette(
        routes=live_routes(),
        middleware=[Middleware(KeepRawSend)],
        lifespan=lifespan,
        exception_handlers=HANDLERS,
    )
    app.state.hub = live
    app.state.recordings = LiveSources()
    app.state.health = lambda: _health(live)
    return app


def _health(hub: Hub) -> dict[str, Any]:
    fields: dict[str, Any] = {"rooms": hub.room_count}
    if hub.store_error is not None:
        fields.update(ok=False, store=hub.store_error)
    return fields


def create_replay_app(file: Recording, token: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            file.close()

    app = Starlette(routes=replay_routes(), lifespan=lifespan, exception_handlers=HANDLERS)
    app.state.recordings = ReplaySources(file.store, file.session, token)
    fields: dict[str, Any] = {"replay": True}
    app.state.health = lambda: fields
    return app
