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
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount

from collabd.api import (
    chat,
    forward,
    grants,
    health,
    kernel,
    kernelhosts,
    metrics,
    recording,
    replay,
    sessions,
    sharing,
    signin,
    tracking,
    versioning,
    web,
    widgets,
    ws,
)
from collabd.api.errors import HANDLERS, ApiError
from collabd.api.sources import LiveSources, ReplaySources, answering
from collabd.background import bounded
from collabd.chatguard import ChatGuardExtension
from collabd.cluster.node import Cluster, OwnedElsewhere
from collabd.disk.disksync import DiskSync
from collabd.extension import Extension
from collabd.hub import Hub, SessionDeleted
from collabd.kernel.execution import Execution
from collabd.logformat import RequestIds
from collabd.recording.file import Recording
from collabd.recording.indexing import Indexing
from collabd.recording.offload import Rebuilds
from collabd.recording.retention import Retention
from collabd.settings import Settings
from collabd.signin import SignIn
from collabd.stateguard import StateGuardExtension
from collabd.store import Store, open_store

# The hub's own stop, once its sessions are handed over (`serving.py`): slower than this, it
# logs what it waits for; at the limit it gives up, so a hung stop never needs a kill -9.
STOP_REPORT_S = 5.0
STOP_LIMIT_S = 15.0


def build_hub(settings: Settings, store: Store | None = None) -> Hub:
    """The hub with the default extensions, in the order their hooks run; in a cluster when
    a Redis URL is set (which needs the shared PostgreSQL store)."""
    if store is None:
        store = open_store(settings.database_url, settings.db_path)
    hub = Hub(settings, store, cluster=_cluster(settings, store))
    hub.hooks.add(*default_extensions(hub))
    return hub


def _cluster(settings: Settings, store: Store) -> Cluster | None:
    if not settings.redis_url:
        return None
    from collabd.store.postgres import PostgresStore

    if not isinstance(store, PostgresStore):
        raise ValueError(
            "a cluster (--redis-url) needs the shared PostgreSQL store (--database-url)"
        )
    return Cluster(
        store, settings.redis_url, node_url=settings.internal_url, lease_ttl_s=settings.lease_ttl_s
    )


def default_extensions(hub: Hub) -> list[Extension]:
    guards = [ChatGuardExtension(), StateGuardExtension()]
    return [*guards, DiskSync(hub.notebook_path), Retention(hub), Execution(hub)]


def live_routes() -> list[BaseRoute]:
    return [
        *sessions.routes,
        *sharing.routes,
        *grants.routes,
        *signin.routes,
        *recording.read_routes,
        *recording.write_routes,
        *versioning.read_routes,
        *versioning.write_routes,
        *tracking.read_routes,
        *tracking.write_routes,
        *kernel.routes,
        *chat.routes,
        *widgets.routes,
        *kernelhosts.routes,
        *ws.routes,
        *health.routes,
        *metrics.routes,
        *web.live_pages,
        *web.replay_pages,
        *web.assets,
    ]


def replay_routes() -> list[BaseRoute]:
    return [
        *replay.routes,
        *recording.read_routes,
        *versioning.read_routes,
        *tracking.read_routes,
        *chat.read_routes,
        *health.routes,
        *web.replay_pages,
        *web.assets,
    ]


def create_app(settings: Settings, hub: Hub | None = None) -> Starlette:
    if not settings.token:
        raise ValueError("settings.token (the admin token) must be set")
    signin = SignIn(hub.settings if hub is not None else settings)  # SignInError: say what
    live = hub if hub is not None else build_hub(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await live.start()
        try:
            yield
        finally:
            await bounded(live.stop(), "stopping the hub", STOP_REPORT_S, STOP_LIMIT_S)

    routes = live_routes()
    if settings.prefix:  # behind JupyterHub (/services/collabd) or a proxy's path
        routes = [Mount(settings.prefix, routes=routes)]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(RequestIds), Middleware(ws.DirectJoin, prefix=settings.prefix)],
        lifespan=lifespan,
        exception_handlers={
            **HANDLERS,
            OwnedElsewhere: forward.to_owner,
            SessionDeleted: _deleted,
        },
    )
    app.state.hub = live
    app.state.signin = signin
    app.state.recordings = LiveSources()
    app.state.health = live.health
    return app


async def _deleted(request: Request, exc: Exception) -> Response:
    return ApiError(404, "not_found", "this session was deleted").response()


def create_replay_app(file: Recording, token: str) -> Starlette:
    # as a hub's: reads that rebuild a document in a worker process, which also builds the
    # seek index (a file carries none) in the private working copy, so far seeks are quick
    rebuilds = Rebuilds(file.store)
    indexing = Indexing(file.store, rebuilds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        indexing.request(file.session.id)
        try:
            yield
        finally:
            await indexing.close()
            await rebuilds.close()
            file.close()

    app = Starlette(routes=replay_routes(), lifespan=lifespan, exception_handlers=HANDLERS)
    app.state.recordings = ReplaySources(file.store, file.session, token, answering(rebuilds))
    fields: dict[str, Any] = {"replay": True}
    app.state.health = lambda: fields
    return app
