"""Kernel hosts: which there are (with their kernel specs), and choosing one for a session.

`GET /api/kernel-hosts` (the admin token or any session's edit token) lists every host by name
and description with its specs, never its address or token; a host that cannot be asked is
listed with `"error"`. `POST /api/sessions/{id}/kernel/select {"host", "spec"}` (edit token)
keeps the choice in the session's document and restarts the kernel there.
"""

from __future__ import annotations

import asyncio
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from collabd.api.access import caller_of, extension_of, hub_of, signed_in, token_of
from collabd.api.body import json_body
from collabd.api.errors import ApiError
from collabd.api.kernel import _api_error, _by, _session
from collabd.auth import can_edit, same, user_access
from collabd.kernel.execution import Execution
from collabd.kernel.gateway import GatewayError, host_specs
from collabd.kernel.hosts import LOCAL, NAME_RE, KernelHost
from collabd.kernel.session import ExecutionError

LIST_TIMEOUT_S = 5.0
MAX_SPEC = 200


def local_specs() -> list[dict[str, Any]]:
    found = []
    for name, entry in sorted(KernelSpecManager().get_all_specs().items()):
        spec = entry.get("spec") or {}
        found.append(
            {
                "name": name,
                "display_name": str(spec.get("display_name") or name),
                "language": str(spec.get("language") or ""),
            }
        )
    return found


async def specs_of(host: KernelHost, timeout: float = LIST_TIMEOUT_S) -> list[dict[str, Any]]:
    """The host's kernel specs; raises GatewayError (a reason safe to show) if it cannot tell."""
    if host.is_local:
        return await asyncio.to_thread(local_specs)
    try:
        async with asyncio.timeout(timeout):
            return await host_specs(host)
    except TimeoutError:
        raise GatewayError(
            f"the kernel host {host.name!r} did not answer within {timeout:g} s"
        ) from None


async def _describe(host: KernelHost) -> dict[str, Any]:
    entry: dict[str, Any] = host.public()
    try:
        entry["specs"] = await specs_of(host)
    except GatewayError as exc:
        entry.update(specs=[], error=str(exc))
    return entry


def _execution(request: Request) -> Execution:
    return extension_of(request, Execution, "runs no kernels")


async def _require_editor(request: Request) -> None:
    """The admin token, or the edit token of some session, or a signed-in user who may edit
    some session; a view token (or a user who only views) may not."""
    hub = hub_of(request)
    token = token_of(request, query_ok=False)
    if not token:
        return await _require_editing_user(request)
    if same(token, hub.admin_token):
        return
    viewer = False
    for record in await hub.sessions():
        if same(token, record.edit_token):
            return
        viewer = viewer or same(token, record.view_token)
    if viewer:
        raise ApiError(403, "forbidden", "a view link cannot list or choose kernel hosts")
    raise ApiError(401, "unauthorized", "the token is not valid on this hub")


async def _require_editing_user(request: Request) -> None:
    user = await signed_in(request)
    if user is None:
        raise ApiError(401, "unauthorized", "an edit or admin token is needed (Bearer)")
    hub = hub_of(request)
    grants = await asyncio.to_thread(hub.store.grants_for, user.name, user.groups)
    if not user.admin and not can_edit(user_access(user, grants)):
        raise ApiError(403, "forbidden", "only those who may edit a session choose kernel hosts")


async def list_hosts(request: Request) -> Response:
    await _require_editor(request)
    hosts = _execution(request).hosts
    listed = await asyncio.gather(*(_describe(host) for host in hosts.values()))
    return JSONResponse(list(listed))


async def select(request: Request) -> Response:
    session = await _session(request)
    body = await json_body(request)
    host_name, spec = body.get("host", LOCAL), body.get("spec")
    if not isinstance(host_name, str) or not NAME_RE.match(host_name):
        raise ApiError(422, "bad_request", '"host" must be the name of a kernel host')
    if not isinstance(spec, str) or not spec or len(spec) > MAX_SPEC:
        raise ApiError(422, "bad_request", '"spec" must be the name of a kernel spec')
    host = _execution(request).hosts.get(host_name)
    if host is None:
        raise ApiError(404, "unknown_host", f"no kernel host named {host_name!r} on this hub")
    try:
        names = [s["name"] for s in await specs_of(host)]
    except GatewayError as exc:
        raise ApiError(503, "host_unreachable", str(exc)) from None
    if spec not in names:
        raise ApiError(
            422,
            "unknown_spec",
            f"host {host_name!r} has no kernel spec {spec!r} (it has: {', '.join(names)})",
        )
    try:
        await session.select(host_name, spec, _by(body, caller_of(request)))
    except ExecutionError as exc:
        raise _api_error(exc) from None
    return JSONResponse({"host": session.host, "spec": spec, "status": session.status})


routes = [
    Route("/api/kernel-hosts", list_hosts, methods=["GET"]),
    Route("/api/sessions/{session_id}/kernel/select", select, methods=["POST"]),
]
