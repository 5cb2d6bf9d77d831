"""Sign-in: who a request comes from when it carries no session token.

Two sources, each optional: JupyterHub (collabd as a hub service, `hubauth`), and an
authenticating proxy's header believed only from the proxy's own addresses (`proxies`). The
names they give are matched against the sessions' grants in `collabd.api.access`.
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from collabd.auth import User
from collabd.settings import Settings

from .hubauth import COOKIE, HubSignIn
from .proxies import TrustedHeader

__all__ = ["SignIn", "SignInError", "User"]


class SignInError(Exception):
    """A sign-in setting that cannot work (a bad proxy address, no JupyterHub environment)."""


class SignIn:
    """The sign-in sources a hub is configured with."""

    def __init__(self, settings: Settings) -> None:
        self.header: TrustedHeader | None = None
        self.hub: HubSignIn | None = None
        try:
            if settings.trusted_user_header:
                self.header = TrustedHeader(
                    settings.trusted_user_header, settings.trusted_proxies, settings.admin_users
                )
            if settings.jupyterhub:
                self.hub = HubSignIn(settings.admin_users)
        except (ValueError, RuntimeError) as exc:
            raise SignInError(str(exc)) from None

    @property
    def configured(self) -> bool:
        return self.header is not None or self.hub is not None

    async def user(self, conn: HTTPConnection) -> User | None:
        """The signed-in user of a request or websocket, if any: the proxy's header (from a
        trusted proxy only), else the hub's OAuth cookie."""
        if self.header is not None:
            peer = conn.client.host if conn.client is not None else None
            user = self.header.user(conn.headers, peer)
            if user is not None:
                return user
        if self.hub is not None:
            token = conn.cookies.get(COOKIE)
            if token:
                return await self.hub.user(token)
        return None
