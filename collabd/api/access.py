"""Who is asking: the token of a request, or the signed-in user when it has none, and what they
may do with the session it names. Every endpoint and the websocket go through here."""

from __future__ import annotations

import asyncio
import time
from typing import TypeVar
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from collabd import auth, logformat
from collabd.api.errors import ApiError
from collabd.auth import Access, Caller, User, access_for, can_edit, owns, user_access
from collabd.extension import Extension
from collabd.hub import Hub
from collabd.signin import SignIn
from collabd.store import LinkRecord, SessionRecord

E = TypeVar("E", bound=Extension)


def hub_of(conn: HTTPConnection) -> Hub:
    hub: Hub = conn.app.state.hub
    return hub


def extension_of(conn: HTTPConnection, kind: type[E], missing: str) -> E:
    """The hub's extension of that type, or a 409 saying what this hub does not do."""
    try:
        return hub_of(conn).extension(kind)
    except LookupError:
        raise ApiError(409, "not_available", f"this hub {missing}") from None


def token_of(conn: HTTPConnection, *, query_ok: bool = True) -> str | None:
    header = conn.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return conn.query_params.get("token") if query_ok else None


def require_admin(conn: HTTPConnection) -> None:
    # Header only: a `?token=` ends up in access logs, proxies' logs and shell history.
    token = token_of(conn, query_ok=False)
    if access_for(token, None, hub_of(conn).admin_token) is not Access.ADMIN:
        raise ApiError(401, "unauthorized", "this needs the admin token (Authorization: Bearer)")


async def admin_or_user(conn: HTTPConnection) -> User | None:
    """The admin token (None), else the signed-in user; 401 for anyone else."""
    token = token_of(conn, query_ok=False)
    if access_for(token, None, hub_of(conn).admin_token) is Access.ADMIN:
        return None
    user = None if token else await signed_in(conn)
    if user is None:
        raise ApiError(
            401, "unauthorized", "this needs the admin token (Authorization: Bearer) or sign-in"
        )
    return user


async def require_admin_or_admin_user(conn: HTTPConnection) -> None:
    user = await admin_or_user(conn)
    if user is not None and not user.admin:
        raise ApiError(403, "forbidden", "this is for collabd's administrators")


def signin_of(conn: HTTPConnection) -> SignIn | None:
    signin: SignIn | None = getattr(conn.app.state, "signin", None)
    return signin if signin is not None and signin.configured else None


async def signed_in(conn: HTTPConnection) -> User | None:
    """The signed-in user of a request (asked once per request), or None."""
    if "collabd.user" in conn.scope:
        known: User | None = conn.scope["collabd.user"]
        return known
    signin = signin_of(conn)
    user = await signin.user(conn) if signin is not None else None
    conn.scope["collabd.user"] = user
    return user


def same_origin(origins: tuple[str, ...], origin: str | None, host: str | None) -> bool:
    """Browsers always send Origin on cross-site requests and websockets; other clients do not,
    and need a token or a sign-in anyway."""
    if origin is None:
        return True
    if origin in origins or "*" in origins:
        return True
    return bool(host) and urlsplit(origin).netloc.lower() == (host or "").lower()


def _check_cross_site(conn: HTTPConnection) -> None:
    """A request signed in by a cookie (or a proxy's) that changes something must come from our
    own page: SameSite=Lax already keeps the cookie off other sites' POSTs; this also covers a
    proxy's own cookie and older browsers."""
    if conn.scope["type"] != "http" or conn.scope.get("method") in ("GET", "HEAD", "OPTIONS"):
        return
    origins = hub_of(conn).settings.allowed_origins
    if not same_origin(origins, conn.headers.get("origin"), conn.headers.get("host")):
        raise ApiError(403, "forbidden", "a signed-in change must come from collabd's own page")


async def session_access(
    conn: HTTPConnection, *, edit: bool = False
) -> tuple[SessionRecord, Access]:
    """The session named in the path and what the caller's token may do with it."""
    record, caller = await session_caller(conn, edit=edit)
    return record, caller.access


async def session_caller(
    conn: HTTPConnection, *, edit: bool = False, own: bool = False
) -> tuple[SessionRecord, Caller]:
    """The session named in the path and who is asking: the access of the caller's token and
    the named link it is, if it is one; with no token, the signed-in user and their grants.
    `own`: only the session's owners may (403 for anyone else with access)."""
    hub = hub_of(conn)
    token = token_of(conn, query_ok=conn.scope["type"] == "websocket" or not edit)
    session_id = conn.path_params["session_id"]
    if token:
        record, caller = await resolve(hub, session_id, token)
    else:
        user = await signed_in(conn)
        if user is None:
            raise ApiError(401, "unauthorized", "a session token is needed (Authorization: Bearer)")
        _check_cross_site(conn)
        record, caller = await resolve_user(hub, session_id, user)
    # A wrong token gets the same answer whether the session exists or not, so session ids
    # cannot be probed; only the admin learns that one does not exist.
    if caller is None:
        what = "the token is" if token else "you are"
        raise ApiError(401, "unauthorized", f"{what} not allowed in this session")
    if record is None:
        raise ApiError(404, "not_found", "no such session")
    logformat.session_id.set(record.id)
    conn.state.caller = caller
    if edit and not can_edit(caller.access):
        raise ApiError(403, "forbidden", "a view link cannot change anything")
    if own and not caller.owner:
        raise ApiError(403, "forbidden", "only the session's owners manage who may come in")
    return record, caller


async def resolve_user(
    hub: Hub, session_id: str, user: User, *, fresh: bool = False
) -> tuple[SessionRecord | None, Caller | None]:
    """The session and what the signed-in user may do with it: everything for collabd's admins,
    else the highest of their grants and their groups' (None: nothing)."""
    record = await hub.session(session_id, fresh=fresh or hub.cluster is not None)
    if user.admin:
        return record, Caller(Access.ADMIN, user=user, owner=True)
    if record is None:
        return None, None
    grants = await asyncio.to_thread(hub.store.grants, record.id)
    access = user_access(user, grants)
    if access is None:
        return record, None
    return record, Caller(access, user=user, owner=access is Access.OWNER)


async def resolve(
    hub: Hub, session_id: str, token: str, *, fresh: bool = False
) -> tuple[SessionRecord | None, Caller | None]:
    """The session and what `token` may do with it (None: nothing). A revoked or expired named
    link raises its own 401 (`link_revoked`, `link_expired`): only its holder can learn that.

    In a cluster the session is read from the store each time (another hub may have rotated
    its links); `fresh` asks for that on one hub too."""
    record = await hub.session(session_id, fresh=fresh or hub.cluster is not None)
    signin = hub.settings.signin
    access = access_for(token, record, hub.admin_token)
    if access is not None:
        return record, Caller(access, owner=owns(access, by_token=True, signin=signin))
    if record is None:
        return None, None
    link = await find_link(hub, record.id, token)
    if link is None:
        return record, None
    refusal = auth.link_refusal(link, time.time())
    if refusal == "revoked":
        raise ApiError(401, "link_revoked", "this link was revoked")
    if refusal == "expired":
        raise ApiError(401, "link_expired", "this link expired")
    role = Access(link.role)
    return record, Caller(role, link, owner=owns(role, by_token=True, signin=signin))


async def find_link(hub: Hub, session_id: str, token: str) -> LinkRecord | None:
    """The session's named link whose token this is (revoked and expired ones too)."""
    found = await asyncio.to_thread(hub.store.link_by_hash, session_id, auth.token_hash(token))
    return found if auth.link_matches(token, found) else None


def caller_of(conn: HTTPConnection) -> Caller:
    """Who asked, once `session_caller` (or `session_access`) checked the request."""
    caller: Caller = conn.state.caller
    return caller
