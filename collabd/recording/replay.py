"""`collabd replay FILE`: serve an exported recording on its own, read-only.

The same playback page and the same read endpoints as a live hub, over a private copy of the
file; there is no room, no kernel and no writing endpoint (forking answers 403).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from collabd import __version__, auth
from collabd.api import recording as api_recording
from collabd.api import web as api_web
from collabd.api.common import ApiError
from collabd.api.recording import ReplaySource, source_of
from collabd.recording.file import Recording, open_recording


async def _info(request: Request) -> Response:
    source = await source_of(request)
    base = f"{request.url.scheme}://{request.url.netloc}"
    replay: ReplaySource = request.app.state.replay
    return JSONResponse(
        {
            "id": source.record.id,
            "path": source.record.path,
            "created": source.record.created,
            "role": "view",
            "replay": True,
            "view_url": f"{base}/s/{source.record.id}/replay#token={replay.token}",
            "replay_url": f"{base}/s/{source.record.id}/replay#token={replay.token}",
        }
    )


async def _health(request: Request) -> Response:
    return JSONResponse({"ok": True, "version": __version__, "replay": True})


async def _error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "not_found", "detail": f"no route for {request.url.path}"}, 404)


def create_replay_app(recording: Recording, token: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            recording.close()

    pages = [
        r for r in api_web.routes if isinstance(r, Route) and r.path == "/s/{session_id}/replay"
    ]
    static = [r for r in api_web.routes if isinstance(r, Mount)]
    app = Starlette(
        routes=[
            *api_recording.routes,
            Route("/api/sessions/{session_id}", _info, methods=["GET"]),
            Route("/api/health", _health),
            *pages,
            *static,
        ],
        lifespan=lifespan,
        exception_handlers={ApiError: _error, 404: _not_found},
    )
    app.state.replay = ReplaySource(recording.store, recording.session, token)
    return app


def serve(path: Path, *, host: str, port: int, token: str | None, log_level: str = "info") -> int:
    recording = open_recording(path)
    token = token or auth.new_token()
    app = create_replay_app(recording, token)
    session = recording.session
    print(f"collabd {__version__} replaying {path} ({session.path})", flush=True)
    print(f"  replay link: http://{host}:{port}/s/{session.id}/replay#token={token}", flush=True)
    uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="on")
    return 0
