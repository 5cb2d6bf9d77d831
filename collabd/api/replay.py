"""What `collabd replay` answers beyond the recording's read routes: the session it holds, and a
clear refusal of anything that would change it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd.api.errors import ApiError
from collabd.api.recording import source_of
from collabd.api.sources import ReplaySources


async def info(request: Request) -> Response:
    source = await source_of(request)
    base = f"{request.url.scheme}://{request.url.netloc}"
    replay: ReplaySources = request.app.state.recordings
    link = f"{base}/s/{source.record.id}/replay#token={replay.token}"
    return JSONResponse(
        {
            "id": source.record.id,
            "path": source.record.path,
            "created": source.record.created,
            "role": "view",
            "replay": True,
            "view_url": link,
            "replay_url": link,
        }
    )


async def read_only(request: Request) -> Response:
    raise ApiError(403, "forbidden", "a replayed recording is read-only")


routes = [
    Route("/api/sessions/{session_id}", info, methods=["GET"]),
    Route("/api/sessions/{session_id}/fork", read_only, methods=["POST"]),
]
