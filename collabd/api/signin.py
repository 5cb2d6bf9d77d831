"""Who am I, and signing in through JupyterHub: the login redirect and the OAuth callback.

The hub's OAuth token is kept in an HttpOnly, SameSite=Lax cookie on collabd's path (Secure
behind https); every request and websocket without a session token is then the hub's user.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from collabd.api.access import hub_of, signed_in, signin_of, token_of
from collabd.api.errors import ApiError
from collabd.auth import Access, access_for
from collabd.signin.hubauth import COOKIE, STATE_COOKIE, HubSignIn, SignInFailed

STATE_MAX_AGE_S = 600


async def me(request: Request) -> Response:
    """`{"user", "admin", "groups", "can_create", "signin", "login_url"}`: who the caller is."""
    hub = hub_of(request)
    prefix = hub.settings.prefix
    signin = signin_of(request)
    token = token_of(request, query_ok=False)
    result: dict[str, Any] = {
        "user": None,
        "admin": False,
        "groups": [],
        "can_create": False,
        "signin": {
            "jupyterhub": signin is not None and signin.hub is not None,
            "header": signin is not None and signin.header is not None,
        },
        "login_url": f"{prefix}/login" if signin is not None and signin.hub else None,
    }
    if token and access_for(token, None, hub.admin_token) is Access.ADMIN:
        result.update(admin=True, can_create=True)
    elif not token and (user := await signed_in(request)) is not None:
        result.update(
            user=user.name,
            admin=user.admin,
            groups=list(user.groups),
            can_create=user.admin or hub.settings.users_can_create,
        )
    return JSONResponse(result, headers={"Cache-Control": "no-store"})


def _hub(request: Request) -> HubSignIn:
    signin = signin_of(request)
    if signin is None or signin.hub is None:
        raise ApiError(404, "not_found", "this hub does not sign in through JupyterHub")
    return signin.hub


def _local(next_url: str | None, prefix: str) -> str:
    """A page of ours to go back to after signing in (never another site)."""
    home = f"{prefix}/"
    if not next_url or not next_url.startswith(home) or next_url.startswith("//"):
        return home
    if "\\" in next_url or any(ord(c) < 0x20 for c in next_url):
        return home
    return next_url


def _path(request: Request) -> str:
    return f"{hub_of(request).settings.prefix}/"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or hub_of(request).settings.base_url.startswith("https:")


async def login(request: Request) -> Response:
    """Off to the hub's sign-in (OAuth authorize, with PKCE); `?next=` is where to come back."""
    auth = _hub(request)
    prefix = hub_of(request).settings.prefix
    target, state = auth.login(_local(request.query_params.get("next"), prefix))
    response = RedirectResponse(target, status_code=302)
    response.set_cookie(
        STATE_COOKIE,
        state,
        max_age=STATE_MAX_AGE_S,
        path=_path(request),
        httponly=True,
        secure=_secure(request),
        samesite="lax",
    )
    return response


async def oauth_callback(request: Request) -> Response:
    """The hub sends the browser back here with a code: exchanged for the hub's token, kept in
    the sign-in cookie, then back to the page the person was going to."""
    auth = _hub(request)
    params = request.query_params
    if params.get("error"):
        detail = params.get("error_description") or params["error"]
        raise ApiError(400, "signin_failed", f"JupyterHub did not sign you in: {detail}")
    code, state = params.get("code"), params.get("state")
    if not code or not state:
        raise ApiError(400, "signin_failed", "the sign-in came back without a code or state")
    try:
        token, next_url = await auth.finish(code, state, request.cookies.get(STATE_COOKIE))
    except SignInFailed as exc:
        raise ApiError(403, "signin_failed", str(exc)) from None
    if await auth.user(token) is None:
        raise ApiError(403, "signin_failed", "JupyterHub does not let you use this service")
    prefix = hub_of(request).settings.prefix
    response = RedirectResponse(_local(next_url, prefix), status_code=302)
    response.delete_cookie(STATE_COOKIE, path=_path(request))
    response.set_cookie(
        COOKIE,
        token,
        path=_path(request),
        httponly=True,
        secure=_secure(request),
        samesite="lax",
    )
    return response


async def logout(request: Request) -> Response:
    """Forget the sign-in cookie (the hub's own session is the hub's to end)."""
    _hub(request)
    response = JSONResponse({"signed_out": True})
    response.delete_cookie(COOKIE, path=_path(request))
    return response


routes = [
    Route("/api/me", me, methods=["GET"]),
    Route("/login", login, methods=["GET"]),
    Route("/oauth_callback", oauth_callback, methods=["GET"]),
    Route("/api/logout", logout, methods=["POST"]),
]
