"""Awareness (presence) updates, pure: decoded strictly, checked, and re-encoded.

An awareness update is a var-uint count, then per client a var-uint client id, a var-uint clock
and a var-string holding the state as JSON (`null` when the client left). Every renderer of every
participant shows what is in it (names, cursor colours), so the hub checks it before relaying:
anything malformed is refused, and fields a renderer would trust are dropped when invalid.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

MAX_NAME_CHARS = 64
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
# y-codemirror's selection colour: the user's colour with an alpha channel (`#rrggbb33`)
_HEX_COLOR_ALPHA = re.compile(r"#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")


class BadPresence(ValueError):
    """The awareness update is malformed or over a limit; the sender is closed with 4400."""


@dataclass(frozen=True, slots=True)
class ClientState:
    client_id: int
    clock: int
    state: str  # the JSON text, exactly as sent (or as re-encoded after cleaning)

    @property
    def present(self) -> bool:
        return self.state != "null"


def decode(update: bytes, *, max_state_bytes: int) -> list[ClientState]:
    """Every entry of an awareness update; BadPresence if anything is off."""
    reader = _Reader(update)
    count = reader.var_uint()
    entries = []
    for _ in range(count):
        client_id = reader.var_uint()
        clock = reader.var_uint()
        raw = reader.var_bytes(max_state_bytes)
        entries.append(ClientState(client_id, clock, _clean_state(raw)))
    if not reader.done:
        raise BadPresence("bytes after the last client state")
    return entries


def encode(entries: list[ClientState]) -> bytes:
    out = bytearray(_var_uint(len(entries)))
    for entry in entries:
        data = entry.state.encode()
        out += _var_uint(entry.client_id) + _var_uint(entry.clock) + _var_uint(len(data)) + data
    return bytes(out)


def _clean_state(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
        state = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadPresence("a client state is not JSON") from None
    if state is None:
        return "null"
    if not isinstance(state, dict):
        raise BadPresence("a client state must be a JSON object or null")
    cleaned = clean_user(state)
    return text if cleaned is state else json.dumps(cleaned, separators=(",", ":"))


def clean_user(state: dict[str, Any]) -> dict[str, Any]:
    """The state without the `user` fields a renderer must not trust (the same object if none)."""
    user = state.get("user")
    if "user" not in state or user is None:
        return state
    if not isinstance(user, dict):
        return {k: v for k, v in state.items() if k != "user"}
    bad = {key for key, value in user.items() if not _user_field_ok(key, value)}
    if not bad:
        return state
    return {**state, "user": {k: v for k, v in user.items() if k not in bad}}


def attribute(entry: ClientState, name: str | None) -> ClientState:
    """The state as the hub vouches for it, per connection: for one joined with a named link,
    `user.name` is the link's name and `user.verified` is true whatever the client said; for
    any other, a `user.verified` it claimed is dropped (its name stays its own claim)."""
    if not entry.present or (name is None and '"verified"' not in entry.state):
        return entry
    state = json.loads(entry.state)  # decoded once already: valid, an object
    user = state.get("user")
    user = dict(user) if isinstance(user, dict) else {}
    if name is None:
        if "verified" not in user:
            return entry
        del user["verified"]
    else:
        if user.get("name") == name and user.get("verified") is True:
            return entry
        user.update(name=name, verified=True)
    text = json.dumps({**state, "user": user}, separators=(",", ":"))
    return ClientState(entry.client_id, entry.clock, text)


class States:
    """The room's presence, compact: per client id its entry of an awareness update as bytes
    (id, clock, the state as the canonical JSON pycrdt's `Awareness` re-encodes it to), decoded
    only when asked for. pycrdt's keeps a decoded dict and a meta dict per client, ~4x the
    bytes for an idle connection, and re-encodes every state for each new peer.

    Same rules as y-protocols' awareness: an entry applies when its clock is newer, or equal
    and it removes a present state; the clock of a client whose state went is kept, so an
    older state of it cannot come back."""

    __slots__ = ("_entries", "_gone")

    def __init__(self) -> None:
        self._entries: dict[int, bytes] = {}  # the present
        self._gone: dict[int, int] = {}  # the clock each client that left had

    def __contains__(self, client_id: int) -> bool:
        return client_id in self._entries

    def ids(self) -> list[int]:
        """The client ids with a state, in the order they came."""
        return list(self._entries)

    def clock(self, client_id: int) -> int:
        entry = self._entries.get(client_id)
        if entry is None:
            return self._gone.get(client_id, 0)
        reader = _Reader(entry)
        reader.var_uint()
        return reader.var_uint()

    def apply(self, entries: list[ClientState]) -> None:
        for entry in entries:
            cid = entry.client_id
            clock = self.clock(cid)
            if clock < entry.clock or (clock == entry.clock and not entry.present and cid in self):
                if entry.present:
                    state = json.dumps(json.loads(entry.state), separators=(",", ":"))
                    self._entries[cid] = _entry(cid, entry.clock, state.encode())
                    self._gone.pop(cid, None)
                else:
                    self._entries.pop(cid, None)
                    self._gone[cid] = entry.clock

    def remove(self, client_ids: list[int]) -> None:
        for cid in client_ids:
            if cid in self._entries:
                self._gone[cid] = self.clock(cid)
                del self._entries[cid]

    def encode(self, client_ids: list[int]) -> bytes:
        """An awareness update with these clients' states (`null` for one without)."""
        out = bytearray(_var_uint(len(client_ids)))
        for cid in client_ids:
            out += self._entries.get(cid) or _entry(cid, self._gone.get(cid, 0), b"null")
        return bytes(out)

    def decoded(self) -> dict[int, dict[str, Any]]:
        states = {}
        for cid, entry in self._entries.items():
            reader = _Reader(entry)
            reader.var_uint()
            reader.var_uint()
            states[cid] = json.loads(reader.var_bytes(len(entry)))
        return states


def _entry(client_id: int, clock: int, data: bytes) -> bytes:
    return _var_uint(client_id) + _var_uint(clock) + _var_uint(len(data)) + data


def name_ok(value: Any) -> bool:
    """A name every renderer may show: a string of at most 64 characters, no control ones."""
    return isinstance(value, str) and len(value) <= MAX_NAME_CHARS and not _has_control(value)


def _user_field_ok(key: str, value: Any) -> bool:
    if key == "name":
        return name_ok(value)
    if key == "color":
        return isinstance(value, str) and _HEX_COLOR.fullmatch(value) is not None
    if key == "colorLight":
        return isinstance(value, str) and _HEX_COLOR_ALPHA.fullmatch(value) is not None
    return True


def _has_control(text: str) -> bool:
    # Cc (C0/C1 controls) and Cf (bidi overrides, zero-width joiners) can disguise a name.
    return any(unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


class _Reader:
    """lib0 decoding with every length checked against what is left."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    @property
    def done(self) -> bool:
        return self._pos == len(self._data)

    def var_uint(self) -> int:
        value, shift = 0, 0
        while True:
            if self._pos >= len(self._data):
                raise BadPresence("the update ends in the middle of a number")
            byte = self._data[self._pos]
            self._pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return value
            shift += 7
            if shift > 63:
                raise BadPresence("a number is too long")

    def var_bytes(self, limit: int) -> bytes:
        length = self.var_uint()
        if length > limit:
            raise BadPresence(f"a client state is over {limit} bytes")
        end = self._pos + length
        if end > len(self._data):
            raise BadPresence("a client state runs past the end of the update")
        chunk = self._data[self._pos : end]
        self._pos = end
        return chunk


def _var_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
