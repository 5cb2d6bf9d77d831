"""Requests about a session another hub owns go to that hub (a cluster's HTTP relay).

Anything that needs the live room — running cells, the kernel, the notebook as it is now,
saving, forking — raises `OwnedElsewhere` on a hub that does not own the session; this handler
sends the same request to the owner and answers with what it said. A request forwarded once is
never forwarded again: if ownership moved meanwhile, the client gets a 503 to retry.
"""

from __future__ import annotations

import logging

import httpx
from starlette.requests import Request
from starlette.responses import Response

from collabd.api.access import hub_of
from collabd.api.errors import ApiError
from collabd.cluster.node import OwnedElsewhere

log = logging.getLogger("collabd.cluster")

FORWARDED = "x-collabd-forwarded-by"
_PASS_IN = ("authorization", "content-type", "accept")
_PASS_OUT = ("content-type", "content-disposition", "cache-control")
RETRY_S = 2


async def to_owner(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OwnedElsewhere)
    lease, cluster = exc.lease, hub_of(request).cluster
    if cluster is None or lease is None or not lease.live or request.headers.get(FORWARDED):
        return _moving()
    url = lease.node_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    headers = {k: v for k, v in request.headers.items() if k.lower() in _PASS_IN}
    headers[FORWARDED] = cluster.node
    body = getattr(request.state, "raw_body", None)
    if body is None:
        body = await request.body()
    try:
        answer = await cluster.http.request(request.method, url, content=body, headers=headers)
    except httpx.HTTPError as error:
        log.warning(
            "forwarding %s %s to %s failed: %r", request.method, request.url.path, lease.node, error
        )
        return _moving()
    kept = {k: v for k, v in answer.headers.items() if k.lower() in _PASS_OUT}
    return Response(answer.content, status_code=answer.status_code, headers=kept)


def _moving() -> Response:
    response = ApiError(
        503, "moving", "the hub running this session is changing: try again in a few seconds"
    ).response()
    response.headers["Retry-After"] = str(RETRY_S)
    return response
