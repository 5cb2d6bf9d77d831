"""`GET /metrics`: Prometheus' text format. Aggregates only (no session ids, no names): open,
unless `METRICS_TOKEN` is set, then it needs `Authorization: Bearer <that token>`."""

from __future__ import annotations

import collections
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from collabd import auth, metrics
from collabd.api.access import hub_of, token_of
from collabd.api.errors import ApiError
from collabd.hub import Hub
from collabd.kernel.execution import Execution


async def get_metrics(request: Request) -> Response:
    hub = hub_of(request)
    wanted = hub.settings.metrics_token
    if wanted and not auth.same(token_of(request, query_ok=False), wanted):
        raise ApiError(401, "unauthorized", "metrics need the metrics token (Bearer)")
    gauges = await _gauges(hub)
    return Response(metrics.exposition(lambda: gauges), media_type=CONTENT_TYPE_LATEST)


async def _gauges(hub: Hub) -> dict[str, Any]:
    connections: collections.Counter[str] = collections.Counter()
    for live in hub.rooms():
        connections.update(live.room.roles())
    kernels: collections.Counter[str] = collections.Counter()
    queued = 0
    try:
        for session in hub.extension(Execution).kernels():
            kernels[session.status or "none"] += 1
            queued += len(session.queue)
    except LookupError:
        pass
    return {
        "sessions": len(await hub.sessions()),
        "rooms": hub.room_count,
        "connections": dict(connections),
        "queued": queued,
        "kernels": dict(kernels),
    }


routes = [Route("/metrics", get_metrics, methods=["GET"])]
