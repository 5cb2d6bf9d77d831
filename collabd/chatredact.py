"""Hidden messages stay hidden in the recording: their text is blanked in the Yjs bytes served.

Hiding a message removes its text from the live document, but the recording keeps every update,
so the text is still there for any moment before the hide. For everyone but the admin the
recording endpoints blank it (`GET …/recording/chat`, the player's updates, the export file).

A chat message is a JSON value in the array (Yjs `ContentAny`), which Yjs and yrs encode with
lib0's `writeAny`: an object is `118, n, (key, value)*`, a string `119, byte length, UTF-8`.
Replacing the text's bytes by as many spaces keeps every length and every Yjs id as they were,
so the update stays valid and applies exactly as before, with a blank text. The object is found
by its id (`"id": <hidden id>` in the bytes), parsed forward from each candidate start before it.
Pure: no I/O.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Iterable
from typing import Any

from collabd import chat

_OBJECT, _STRING = 118, 119
_WINDOW = 4 * 64 * 1024  # how far before an id the start of its message may be


class _Bad(ValueError):
    pass


def _varuint(buf: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Bad
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _string(buf: bytes, pos: int) -> tuple[int, int]:
    """The span of a length-prefixed string's bytes."""
    length, pos = _varuint(buf, pos)
    if pos + length > len(buf):
        raise _Bad
    return pos, pos + length


_FIXED = {127: 0, 126: 0, 121: 0, 120: 0, 124: 4, 123: 8, 122: 8}


def _skip(buf: bytes, pos: int, depth: int = 0) -> int:
    """The end of the lib0 Any value at `pos`."""
    if pos >= len(buf) or depth > 32:
        raise _Bad
    kind = buf[pos]
    pos += 1
    if kind in _FIXED:
        end = pos + _FIXED[kind]
        if end > len(buf):
            raise _Bad
        return end
    if kind == 125:  # a signed varint: continuation bits as a varuint
        return _varuint(buf, pos)[1]
    if kind in (_STRING, 116):
        return _string(buf, pos)[1]
    if kind == 117:
        count, pos = _varuint(buf, pos)
        for _ in range(count):
            pos = _skip(buf, pos, depth + 1)
        return pos
    if kind == _OBJECT:
        count, pos = _varuint(buf, pos)
        for _ in range(count):
            pos = _string(buf, pos)[1]
            pos = _skip(buf, pos, depth + 1)
        return pos
    raise _Bad


def _message_at(buf: bytes, pos: int) -> tuple[int, str | None, tuple[int, int] | None]:
    """An object at `pos`: its end, its string `id` and the span of its string `text`."""
    if buf[pos] != _OBJECT:
        raise _Bad
    count, pos = _varuint(buf, pos + 1)
    if count > 64:
        raise _Bad
    message_id, text = None, None
    for _ in range(count):
        start, end = _string(buf, pos)
        key = buf[start:end]
        pos = end
        if key in (b"id", b"text") and pos < len(buf) and buf[pos] == _STRING:
            span = _string(buf, pos + 1)
            if key == b"id":
                message_id = buf[span[0] : span[1]].decode("utf-8", "replace")
            else:
                text = span
        pos = _skip(buf, pos)
    return pos, message_id, text


def _id_pattern(message_id: str) -> bytes:
    raw = message_id.encode()
    length = bytearray()
    n = len(raw)
    while True:
        byte = n & 0x7F
        n >>= 7
        length.append(byte | (0x80 if n else 0))
        if not n:
            break
    return b"\x02id" + bytes([_STRING]) + bytes(length) + raw


def redact(blob: bytes, hidden: Iterable[str]) -> bytes:
    """`blob` (a Yjs update or state) with the text of every hidden message blanked."""
    spans: list[tuple[int, int]] = []
    for message_id in hidden:
        pattern = _id_pattern(message_id)
        at = blob.find(pattern)
        while at != -1:
            spans.extend(_texts_around(blob, at, at + len(pattern), message_id))
            at = blob.find(pattern, at + 1)
    if not spans:
        return blob
    out = bytearray(blob)
    for start, end in spans:
        out[start:end] = b" " * (end - start)
    return bytes(out)


def _texts_around(
    blob: bytes, id_start: int, id_end: int, message_id: str
) -> list[tuple[int, int]]:
    """The text span of the message object that holds this id, if one does."""
    for start in range(id_start - 2, max(-1, id_start - _WINDOW), -1):
        if blob[start] != _OBJECT:
            continue
        try:
            end, found_id, text = _message_at(blob, start)
        except (_Bad, IndexError, struct.error):
            continue
        if found_id == message_id and start < id_start and id_end <= end:
            return [text] if text is not None else []
    return []


def hidden_ids(found: list[chat.Message]) -> frozenset[str]:
    """The ids of the messages hidden now."""
    return frozenset(m["id"] for m in found if m.get("hidden") is True)


def redact_messages(found: list[chat.Message], hidden: frozenset[str]) -> list[chat.Message]:
    """Messages of some moment, those hidden now without their text."""
    return [{**m, "text": "", "hidden": True} if m["id"] in hidden else m for m in found]


def redact_window(window: dict[str, Any], hidden: frozenset[str]) -> dict[str, Any]:
    """A player's window (`reader.playback_window`) with hidden texts blanked in its bytes."""

    def blanked(data: str) -> str:
        return base64.b64encode(redact(base64.b64decode(data), hidden)).decode()

    entries = [
        {**e, "update": blanked(e["update"])} if e.get("kind") == "update" and "update" in e else e
        for e in window["entries"]
    ]
    base = window.get("base")
    if base is not None:
        base = {**base, "state": blanked(base["state"])}
        if "updates" in base:
            base["updates"] = [blanked(update) for update in base["updates"]]
    return {**window, "base": base, "entries": entries}
