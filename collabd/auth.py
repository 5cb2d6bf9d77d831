"""Tokens and who may do what with them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from collabd.store import LinkRecord, SessionRecord


class Access(StrEnum):
    ADMIN = "admin"
    EDIT = "edit"
    VIEW = "view"


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
    return access in (Access.ADMIN, Access.EDIT)


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
    """Who is asking: what their token allows, and the named link it is (None for the admin
    token and the two anonymous "anyone with the link" links)."""

    access: Access
    link: LinkRecord | None = None

    @property
    def verified_name(self) -> str | None:
        """The name the hub vouches for (a named link's), or None: any name is a claim."""
        return self.link.name if self.link is not None else None
