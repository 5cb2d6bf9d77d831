"""The binary frame layout against jupyter_server's own (de)serializer, and broken frames."""

from __future__ import annotations

import json
import struct

import pytest
from jupyter_server.services.kernels.connection.base import (
    deserialize_binary_message,
    serialize_binary_message,
)

from collabd.kernel import wsframes

MSG = {
    "channel": "shell",
    "header": {"msg_id": "m1", "msg_type": "comm_msg"},
    "parent_header": {},
    "metadata": {},
    "content": {"comm_id": "c1", "data": {"method": "update"}},
}


def test_a_message_without_buffers_is_a_text_frame() -> None:
    frame = wsframes.encode(MSG)
    assert isinstance(frame, str) and json.loads(frame) == MSG


def test_frames_read_and_written_as_jupyter_server_does() -> None:
    buffers = [b"\x00\x01\xff" * 1000, b"", b"tail"]
    ours = wsframes.encode(MSG, buffers)
    assert isinstance(ours, bytes)
    theirs = deserialize_binary_message(ours)
    assert theirs.pop("buffers") == buffers and theirs == MSG
    msg, got = wsframes.decode(serialize_binary_message({**MSG, "buffers": buffers}))
    assert msg == MSG and got == tuple(buffers)


@pytest.mark.parametrize(
    "frame",
    [
        b"",
        b"\x00\x00\x00\x01",
        struct.pack("!I", 0) + b"{}" * 4,
        struct.pack("!I", 10_000) + b"\x00" * 64,
        struct.pack("!3I", 2, 12, 8) + b"{}xyz",
        struct.pack("!2I", 1, 99) + b"{}",
        struct.pack("!2I", 1, 8) + b"not json",
        struct.pack("!2I", 1, 8) + b"[1, 2]",
    ],
)
def test_a_broken_frame_is_refused_with_a_reason(frame: bytes) -> None:
    with pytest.raises(wsframes.FrameError):
        wsframes.decode(frame)
