"""The y-websocket wire protocol, pure: parse incoming frames, build outgoing ones.

A frame is one message: a var-uint message type, then its payload. Sync messages carry a
var-uint sync type and one length-prefixed buffer (a state vector or an update); awareness
messages carry one length-prefixed awareness update; auth messages (y-protocols `auth.js`)
carry a var-uint auth type and a reason string.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from pycrdt import (
    Decoder,
    create_awareness_message,
    create_update_message,
    write_message,
    write_var_uint,
)

from collabd.sync.wire import AUTH_PERMISSION_DENIED, SyncStep
from collabd.sync.wire import Message as MessageType


class Kind(IntEnum):
    SYNC_STEP1 = 0
    SYNC_STEP2 = 1
    UPDATE = 2
    AWARENESS = 3
    QUERY_AWARENESS = 4
    AUTH = 5
    REQUEST = 6


@dataclass(frozen=True, slots=True)
class Message:
    kind: Kind
    payload: bytes


class ProtocolError(ValueError):
    """A peer sent a frame that is not a valid y-websocket message."""


def parse(frame: bytes) -> Message:
    """Decode one frame; raise ProtocolError on anything malformed."""
    if not frame:
        raise ProtocolError("empty frame")
    try:
        decoder = Decoder(frame)
        msg_type = decoder.read_var_uint()
        if msg_type == MessageType.SYNC:
            sync_type = decoder.read_var_uint()
            payload = _read_buffer(decoder)
            return Message(_SYNC_KINDS[SyncStep(sync_type)], payload)
        if msg_type == MessageType.AWARENESS:
            return Message(Kind.AWARENESS, _read_buffer(decoder))
        if msg_type == MessageType.QUERY_AWARENESS:
            return Message(Kind.QUERY_AWARENESS, b"")
        if msg_type == MessageType.AUTH:
            return Message(Kind.AUTH, frame[1:])
        if msg_type == MessageType.REQUEST:
            return Message(Kind.REQUEST, _read_buffer(decoder))
    except (IndexError, KeyError, ValueError, RuntimeError) as exc:
        raise ProtocolError(f"malformed message: {exc!r}") from exc
    raise ProtocolError(f"unknown message type {msg_type}")


_SYNC_KINDS = {
    SyncStep.STEP1: Kind.SYNC_STEP1,
    SyncStep.STEP2: Kind.SYNC_STEP2,
    SyncStep.UPDATE: Kind.UPDATE,
}


def _read_buffer(decoder: Decoder) -> bytes:
    length = decoder.read_var_uint()
    if length > decoder.length:
        raise ProtocolError("length prefix runs past the end of the frame")
    start = decoder.i0
    return decoder.stream[start : start + length]


_STEP1_HEADER = bytes([MessageType.SYNC, SyncStep.STEP1])
_STEP2_HEADER = bytes([MessageType.SYNC, SyncStep.STEP2])


def sync_step1(state_vector: bytes) -> bytes:
    return _STEP1_HEADER + write_message(state_vector)


def sync_step2(update: bytes) -> bytes:
    return _STEP2_HEADER + write_message(update)


def update(update: bytes) -> bytes:
    return create_update_message(update)


def awareness(update: bytes) -> bytes:
    return create_awareness_message(update)


def request(body: bytes) -> bytes:
    """A collabd request or its answer: `body` is JSON, `{"id", ...}`."""
    return write_var_uint(MessageType.REQUEST) + write_message(body)


def permission_denied(reason: str) -> bytes:
    encoded = reason.encode()
    return (
        write_var_uint(MessageType.AUTH)
        + write_var_uint(AUTH_PERMISSION_DENIED)
        + write_var_uint(len(encoded))
        + encoded
    )
