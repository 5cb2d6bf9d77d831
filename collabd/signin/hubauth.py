"""collabd as a JupyterHub service: people sign in through the hub's OAuth, with JupyterHub's
own `HubOAuth` (so whatever authenticator the hub uses works).

HubOAuth reads its configuration from the environment JupyterHub gives a service
(JUPYTERHUB_API_TOKEN, JUPYTERHUB_API_URL, JUPYTERHUB_CLIENT_ID, JUPYTERHUB_SERVICE_PREFIX,
JUPYTERHUB_OAUTH_CALLBACK_URL, JUPYTERHUB_OAUTH_ACCESS_SCOPES, ...). The hub's OAuth token is
kept in an HttpOnly cookie and exchanged for the user with the hub API (cached for a minute).
The pending logins' state is HubOAuth's, in this process's memory: in a cluster, the callback
must come back to the hub that started the login (or the person signs in again).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from collabd.auth import User

if TYPE_CHECKING:
    from jupyterhub.services.auth import HubOAuth

log = logging.getLogger("collabd.signin")

COOKIE = "collabd-hub-token"
STATE_COOKIE = "collabd-hub-oauth-state"
CACHE_S = 60  # a user the hub named for a token is asked again after this long


class SignInFailed(Exception):
    """The OAuth round trip did not end in a user (a stale or forged state, a hub error)."""


class HubSignIn:
    def __init__(self, admins: tuple[str, ...] = ()) -> None:
        try:
            from jupyterhub.services.auth import HubOAuth
        except ImportError:
            raise RuntimeError(
                "COLLABD_JUPYTERHUB needs the jupyterhub package: pip install 'collabd[jupyterhub]'"
            ) from None
        self.auth: HubOAuth = HubOAuth(cache_max_age=CACHE_S)
        missing = [
            name
            for name, value in (
                ("JUPYTERHUB_API_TOKEN", self.auth.api_token),
                ("JUPYTERHUB_CLIENT_ID", self.auth.oauth_client_id),
            )
            if not value
        ]
        if missing:  # not started as (or configured like) a JupyterHub service
            raise RuntimeError(
                f"COLLABD_JUPYTERHUB is on but {' and '.join(missing)}"
                f" {'is' if len(missing) == 1 else 'are'} not set:"
                " collabd runs as a JupyterHub service (see the README's Sign-in)"
            )
        self.admins = frozenset(admins)

    async def user(self, token: str) -> User | None:
        """The user the hub says holds this OAuth token, if they may use this service."""
        try:
            model: dict[str, Any] | None = await self.auth.user_for_token(token, sync=False)
        except Exception as exc:
            log.warning("the hub could not say whose token this is: %s", exc)
            return None
        if not model or model.get("kind", "user") != "user" or not model.get("name"):
            return None
        scopes = self.auth.access_scopes
        if scopes and not self.auth.check_scopes(scopes, model):
            return None
        name = str(model["name"])
        groups = tuple(str(g) for g in model.get("groups") or ())
        return User(name, admin=bool(model.get("admin")) or name in self.admins, groups=groups)

    def login(self, next_url: str) -> tuple[str, str]:
        """Where to send the browser to sign in (the hub's authorize URL, with PKCE), and the
        state to keep in the state cookie until it comes back."""
        params: dict[str, str] = {}
        verifier: str | None = None
        if self.auth.pkce_enabled:
            verifier, challenge, method = self.auth.generate_pkce_code_challenge()
            params.update(code_challenge=challenge, code_challenge_method=method)
        extra = {"code_verifier": verifier} if verifier else {}
        state = self.auth.generate_state(next_url, **extra)
        params["state"] = state
        return f"{self.auth.login_url}&{urlencode(params)}", state

    async def finish(self, code: str, state: str, cookie_state: str | None) -> tuple[str, str]:
        """The hub's OAuth token for the code, and the page to go back to."""
        if not cookie_state or cookie_state != state:
            raise SignInFailed("the sign-in state does not match: sign in again")
        next_url = self.auth.get_next_url(state)
        verifier = self.auth.get_code_verifier(state)
        self.auth.clear_oauth_state(state)
        try:
            token: str = await self.auth.token_for_code(code, code_verifier=verifier, sync=False)
        except Exception as exc:
            raise SignInFailed(f"the hub refused the sign-in: {exc}") from None
        return token, next_url
