"""The anonymous links' tokens: derived, never stored.

A session's edit and view tokens are `HMAC-SHA256(link key, "collabd-link" ‖ session id ‖ role ‖
generation)`, URL-safe base64 (43 characters, like the random tokens before them). The store
keeps only each role's generation; replacing a link bumps it. Whoever reads the store (a backup,
a database dump, a kernel that got at the file) learns no token, and the hub can still show an
owner the links by deriving them again.

The link key is, in order: the first line of `LINK_KEY_FILE`; with a shared store
(`DATABASE_URL`: every hub of a cluster must derive the same tokens) the admin token; else a
random key kept in the data folder (`link.key`, 0600), made at the first start. Changing the key
changes every derived link (the old ones stop working; owners get the new ones from the hub).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import os
import secrets
from pathlib import Path

from collabd.datadir import make_private
from collabd.settings import Settings
from collabd.store import SessionRecord
from collabd.store.base import generation_column, token_column

KEY_FILE_NAME = "link.key"
_LABEL = b"collabd-link"


class LinkKeyError(ValueError):
    """The link key file cannot be used (said at start-up, in one line)."""


def derive(key: bytes, session_id: str, role: str, generation: int) -> str:
    token_column(role)  # refuses any other role
    message = b"\0".join((_LABEL, session_id.encode(), role.encode(), str(generation).encode()))
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def new_session(session_id: str, path: str, created: float) -> SessionRecord:
    """A session as the store keeps it: generation 1 of each link, no token."""
    return SessionRecord(session_id, path, "", "", created, edit_gen=1, view_gen=1)


def reveal(record: SessionRecord, key: bytes) -> SessionRecord:
    """The record with its tokens: derived for generations from 1, as stored for 0."""
    changes: dict[str, str] = {}
    for role in ("edit", "view"):
        generation = getattr(record, generation_column(role))
        if generation > 0:
            changes[token_column(role)] = derive(key, record.id, role, generation)
    return dataclasses.replace(record, **changes) if changes else record  # type: ignore[arg-type]


def load_key(settings: Settings) -> bytes:
    """The hub's link key (see the module's docstring)."""
    if settings.link_key_file:
        return _read(Path(settings.link_key_file))
    if settings.database_url:
        if not settings.token:
            raise LinkKeyError("the admin token must be set")
        return settings.token.encode()
    return _kept_in(settings.data)


def _read(path: Path) -> bytes:
    try:
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise LinkKeyError(f"cannot read the link key file {path}: {exc.strerror}") from None
    key = lines[0].strip() if lines else b""
    if len(key) < 16:
        raise LinkKeyError(f"the link key file {path} needs a first line of 16 characters or more")
    return key


def _kept_in(data: Path) -> bytes:
    """The key in the data folder, made (256 random bits, 0600) when there is none yet."""
    path = data / KEY_FILE_NAME
    if not path.exists():
        make_private(data)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return _read(path)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32) + "\n")
    return _read(path)
