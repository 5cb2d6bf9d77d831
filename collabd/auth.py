"""Tokens and who may do what with them."""

from __future__ import annotations

import hmac
import secrets
from enum import StrEnum

from collabd.store import SessionRecord


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
