"""Tokens, signed-in users, and who may do what with a session."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from collabd.store import GrantRecord, LinkRecord, SessionRecord


class Access(StrEnum):
    ADMIN = "admin"
    OWNER = "owner"  # a signed-in user who made the session or was made its owner
    EDIT = "edit"
    VIEW = "view"


# A user's role on a session is the highest of their grants (theirs and their groups').
_RANK = {Access.VIEW: 1, Access.EDIT: 2, Access.OWNER: 3, Access.ADMIN: 4}


@dataclass(frozen=True, slots=True)
class User:
    """Someone signed in (through JupyterHub, or a trusted proxy's header): the name the hub
    vouches for, whether they administer collabd, and their JupyterHub groups."""

    name: str
    admin: bool = False
    groups: tuple[str, ...] = ()


def highest(roles: list[str]) -> Access | None:
    """The highest of the roles, or None when there is none."""
    found = [Access(role) for role in roles if role in _RANK]
    return max(found, key=_RANK.__getitem__) if found else None


def user_access(user: User, grants: list[GrantRecord]) -> Access | None:
    """What a (non-admin) user may do with a session: the highest of the grants to them and
    to their groups, or None."""
    return highest(
        [
            grant.role
            for grant in grants
            if (grant.kind == "user" and grant.name == user.name)
            or (grant.kind == "group" and grant.name in user.groups)
        ]
    )


def rank(access: Access | None) -> int:
    return _RANK.get(access, 0) if access is not None else 0


def new_token() -> str:
    """256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_session_id() -> str:
    """96 random bits: unguessable, still short enough for a link."""
    return secrets.token_urlsafe(12)


def same(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison that treats a missing side as a mismatch."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode(), expected.encode())


def access_for(token: str | None, record: SessionRecord | None, admin_token: str) -> Access | None:
    """What `token` may do with the session (None: nothing)."""
    if same(token, admin_token):
        return Access.ADMIN
    if record is None:
        return None
    if same(token, record.edit_token):
        return Access.EDIT
    if same(token, record.view_token):
        return Access.VIEW
    return None


def can_edit(access: Access | None) -> bool:
    return access in (Access.ADMIN, Access.OWNER, Access.EDIT)


def new_link_id() -> str:
    """96 random bits: a named link's id (not a secret: it is listed and used to revoke)."""
    return secrets.token_urlsafe(12)


def token_hash(token: str) -> str:
    """What the store keeps of a named link's token: its SHA-256, hex. The token has 256 random
    bits, so a plain hash is enough (no salt or slow hash: it cannot be guessed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def link_matches(token: str, link: LinkRecord | None) -> bool:
    """Constant-time check that `token` is the named link's, on the hashes."""
    if link is None or not token:
        return False
    return hmac.compare_digest(token_hash(token).encode(), link.token_hash.encode())


def link_refusal(link: LinkRecord, now: float) -> str | None:
    """Why a named link no longer admits anyone ("revoked", "expired"), or None."""
    if link.revoked is not None:
        return "revoked"
    if link.expires is not None and now >= link.expires:
        return "expired"
    return None


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is asking: what they may do, the named link they came with (None for the admin
    token and the two anonymous "anyone with the link" links), or the signed-in user they are
    (when they came with no token). `owner`: they may manage the session's links and grants."""

    access: Access
    link: LinkRecord | None = None
    user: User | None = None
    owner: bool = False

    @property
    def verified_name(self) -> str | None:
        """The name the hub vouches for (a named link's or the signed-in user's), or None: any
        name is then a claim."""
        if self.link is not None:
            return self.link.name
        return self.user.name if self.user is not None else None

    def identity(self) -> dict[str, Any]:
        """What `by` carries besides the name when the hub vouches for it."""
        if self.link is not None:
            return {"link_id": self.link.id, "verified": True}
        if self.user is not None:
            return {"user": self.user.name, "verified": True}
        return {"verified": False}


def owns(access: Access, *, by_token: bool, signin: bool) -> bool:
    """Who manages a session's links and grants: the admin and its owners. Where nobody signs
    in (token-only setups, as before 0.3) an edit link, anonymous or named, is an owner too;
    once sign-in is configured an edit link only edits, and owners are signed-in users."""
    if access in (Access.ADMIN, Access.OWNER):
        return True
    return access is Access.EDIT and by_token and not signin
