"""Rate limits on what people post through the hub (chat messages, widget changes): per person,
and per anonymous link as a whole (five times one person's rate), made once per hub app."""

from __future__ import annotations

import hashlib
from typing import Any

from starlette.requests import Request

from collabd import chat
from collabd.api.access import token_of
from collabd.api.errors import ApiError
from collabd.auth import Caller


def _limits(request: Request, name: str, rate: str) -> tuple[chat.RateLimit, chat.RateLimit]:
    state = request.app.state
    found: tuple[chat.RateLimit, chat.RateLimit] | None = getattr(state, f"{name}_limits", None)
    if found is None:
        count, window = chat.parse_rate(rate)
        found = (chat.RateLimit(count, window), chat.RateLimit(5 * count, window))
        setattr(state, f"{name}_limits", found)
    return found


def rate_keys(request: Request, caller: Caller, client_id: Any) -> list[str]:
    """A named link (or a signed-in user) is one person. An anonymous link is shared by everyone
    who has it: per its holder's connection (the client id it says), and for the link as a whole."""
    if caller.link is not None:
        return [f"link:{caller.link.id}"]
    if caller.user is not None:
        return [f"user:{caller.user.name}"]
    token = hashlib.sha256((token_of(request) or "").encode()).hexdigest()[:24]
    return [f"token:{token}:{client_id if type(client_id) is int else '-'}", f"token:{token}"]


def check_rate(
    request: Request, caller: Caller, client_id: Any, *, name: str, rate: str, what: str
) -> None:
    """Take one from the caller's allowance of `name` (a `N/SECONDS` rate), or 429 saying when
    to try again."""
    person, link = _limits(request, name, rate)
    keys = rate_keys(request, caller, client_id)
    checks = [(person, keys[0])] + ([(link, keys[1])] if len(keys) > 1 else [])
    wait = max(limit.wait(key) for limit, key in checks)
    if wait:
        raise ApiError(
            429,
            "rate_limited",
            f"at most {person.count} {what} in {person.window:g} s; try again in {wait:.1f} s",
        )
    for limit, key in checks:
        limit.take(key)
