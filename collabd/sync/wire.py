"""Wire constants shared by the hub, the Python client and the web client.

`web/src/model/wire.ts` mirrors these; `tests/sync/test_wire.py` checks that the two agree.
"""

from __future__ import annotations

from enum import IntEnum


class Close(IntEnum):
    """Websocket close codes the hub sends, each with the reason a client shows."""

    GOING_AWAY = 1001  # the hub is shutting down (reconnect)
    MOVED = 1012  # the session moved to another hub of the cluster (reconnect)
    TOO_BIG = 1009  # a message over MAX_MESSAGE_BYTES
    UNAVAILABLE = 1011  # the notebook could not be loaded, or an internal error
    BAD_FRAME = 4400  # a malformed message, or a text frame
    UNAUTHORIZED = 4401  # missing or wrong token
    FORBIDDEN = 4403  # browser origin not allowed
    NOT_FOUND = 4404  # unknown session
    TOO_SLOW = 4408  # reading too slowly: the send buffer limit was reached
    FULL = 4409  # the session has MAX_PARTICIPANTS editors (edit links) or MAX_VIEWERS viewers
    LINK_REVOKED = 4410  # the link this connection joined with was revoked (or rotated)
    BAD_UPDATE = 4422  # a document update that cannot be applied
    RATE = 4429  # over the message rate limit


# Close codes after which reconnecting with the same link cannot help.
FATAL_CLOSES = frozenset(
    {Close.UNAUTHORIZED, Close.FORBIDDEN, Close.NOT_FOUND, Close.TOO_BIG, Close.LINK_REVOKED}
)


class Message(IntEnum):
    """The first var-uint of a y-websocket frame."""

    SYNC = 0
    AWARENESS = 1
    AUTH = 2
    QUERY_AWARENESS = 3
    # collabd's own: a JSON request (a run) on the connection that carries its edits, and the
    # answer to it. Only collabd's clients send it; a plain Yjs client never sees one.
    REQUEST = 100


class SyncStep(IntEnum):
    """The second var-uint of a sync message."""

    STEP1 = 0
    STEP2 = 1
    UPDATE = 2


AUTH_PERMISSION_DENIED = 0  # y-protocols auth.js: the only auth message there is
