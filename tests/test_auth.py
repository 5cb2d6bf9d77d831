"""collabd.auth: tokens and roles."""

from __future__ import annotations

from collabd import auth
from collabd.store import SessionRecord


def test_tokens_are_long_random_and_roles_are_exact() -> None:
    tokens = {auth.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 43 for t in tokens)  # 256 bits
    record = SessionRecord("s", "a.ipynb", "edit-token", "view-token", 0.0)
    assert auth.access_for("edit-token", record, "admin") is auth.Access.EDIT
    assert auth.access_for("view-token", record, "admin") is auth.Access.VIEW
    assert auth.access_for("admin", record, "admin") is auth.Access.ADMIN
    for wrong in ["", None, "edit-toke", "edit-token ", "view-token2"]:
        assert auth.access_for(wrong, record, "admin") is None
