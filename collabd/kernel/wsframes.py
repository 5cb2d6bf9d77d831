"""Jupyter messages with binary buffers on a kernel websocket (pure).

A Jupyter server's legacy kernel websocket (no subprotocol: what Kernel Gateway and Enterprise
Gateway speak to us) carries a message without buffers as one JSON text frame, and a message with
buffers as one binary frame: a big-endian u32 count `n` of parts, `n` u32 offsets from the frame's
start, then the parts; part 0 is the message as UTF-8 JSON (with its `channel`), the rest are
the buffers (jupyter_server's `serialize_binary_message` / `deserialize_binary_message`).
"""

from __future__ import annotations

import itertools
import json
import struct
from collections.abc import Sequence
from typing import Any

from jupyter_client.jsonutil import json_default

MAX_PARTS = 4096  # a comm message has a handful; more is a broken or hostile frame


class FrameError(ValueError):
    """A binary frame that is not a Jupyter message."""


def encode(msg: dict[str, Any], buffers: Sequence[bytes] = ()) -> str | bytes:
    """The frame for `msg` (which has its `channel`): text without buffers, else binary."""
    body = json.dumps(msg, default=json_default)
    if not buffers:
        return body
    parts = [body.encode(), *(bytes(b) for b in buffers)]
    offsets = [4 * (len(parts) + 1)]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + len(part))
    head = struct.pack(f"!{len(parts) + 1}I", len(parts), *offsets)
    return b"".join([head, *parts])


def decode(frame: bytes) -> tuple[dict[str, Any], tuple[bytes, ...]]:
    """The message and its buffers in a binary frame; FrameError says what is wrong."""
    if len(frame) < 8:
        raise FrameError("a binary frame shorter than its header")
    (count,) = struct.unpack_from("!I", frame)
    if not 1 <= count <= MAX_PARTS or len(frame) < 4 * (count + 1):
        raise FrameError(f"a binary frame claiming {count} parts")
    offsets = [*struct.unpack_from(f"!{count}I", frame, 4), len(frame)]
    if offsets[0] != 4 * (count + 1) or any(a > b for a, b in itertools.pairwise(offsets)):
        raise FrameError("a binary frame whose offsets are out of order")
    view = memoryview(frame)
    parts = [bytes(view[a:b]) for a, b in itertools.pairwise(offsets)]
    try:
        msg = json.loads(parts[0])
    except ValueError:
        raise FrameError("a binary frame whose first part is not JSON") from None
    if not isinstance(msg, dict):
        raise FrameError("a binary frame whose first part is not a message")
    return msg, tuple(parts[1:])
