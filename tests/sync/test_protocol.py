"""The y-websocket wire format, without sockets."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collabd.sync import protocol
from collabd.sync.protocol import Kind, ProtocolError


@pytest.mark.parametrize(
    ("frame", "kind", "payload"),
    [
        (protocol.sync_step1(b"\x00"), Kind.SYNC_STEP1, b"\x00"),
        (protocol.sync_step2(b"\x01\x02"), Kind.SYNC_STEP2, b"\x01\x02"),
        (protocol.update(b"\x00\x00"), Kind.UPDATE, b"\x00\x00"),
        (protocol.awareness(b"abc"), Kind.AWARENESS, b"abc"),
        (b"\x03", Kind.QUERY_AWARENESS, b""),
    ],
)
def test_round_trip(frame: bytes, kind: Kind, payload: bytes) -> None:
    message = protocol.parse(frame)
    assert (message.kind, message.payload) == (kind, payload)


def test_permission_denied_matches_y_protocols_auth() -> None:
    # messageAuth (2), messagePermissionDenied (0), then the reason as a var-string
    assert protocol.permission_denied("no") == b"\x02\x00\x02no"


@pytest.mark.parametrize(
    "frame",
    [b"", b"\x00", b"\x00\x05", b"\x00\x00\xff\xff", b"\x09", b"\x01\x10ab", b"\x00\x07\x00"],
)
def test_malformed_frames_raise_protocol_error(frame: bytes) -> None:
    with pytest.raises(ProtocolError):
        protocol.parse(frame)


@given(st.binary(max_size=64))
def test_parse_never_raises_anything_but_protocol_error(frame: bytes) -> None:
    with contextlib.suppress(ProtocolError):
        protocol.parse(frame)
