"""The websocket edge: authorise, then shuttle frames between one client and its room.

Every refusal happens before the client is joined to the room, so a refused client never
receives a byte of the document.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from collabd.api.access import (
    hub_of,
    resolve,
    resolve_user,
    same_origin,
    session_caller,
    token_of,
)
from collabd.api.errors import ApiError
from collabd.auth import Access, Caller, can_edit
from collabd.cluster.lease import Lease
from collabd.cluster.node import OwnedElsewhere
from collabd.hub import Hub, SessionDeleted
from collabd.settings import Settings
from collabd.sync.limits import TokenBucket
from collabd.sync.liveroom import LiveRoom
from collabd.sync.room import Role
from collabd.sync.wire import Close
from collabd.sync.wspeer import RAW_SEND, WebSocketPeer

log = logging.getLogger("collabd.ws")


_STATUS_TO_CLOSE = {401: Close.UNAUTHORIZED, 403: Close.FORBIDDEN, 404: Close.NOT_FOUND}
_CODE_TO_CLOSE = {"link_revoked": Close.LINK_REVOKED}


def origin_allowed(settings: Settings, origin: str | None, host: str | None) -> bool:
    """Browsers always send Origin; other clients do not, and need the token anyway."""
    return same_origin(settings.allowed_origins, origin, host)


async def refuse(websocket: WebSocket, code: int, reason: str) -> None:
    await websocket.accept()
    await websocket.close(code, reason)


async def join(websocket: WebSocket) -> None:
    hub = hub_of(websocket)
    settings = hub.settings
    if hub.stopping:  # its rooms are being handed over: the client retries (elsewhere)
        return await refuse(websocket, Close.GOING_AWAY, "this hub is stopping: reconnecting")
    if not origin_allowed(settings, websocket.headers.get("origin"), websocket.headers.get("host")):
        log.warning("refused websocket from origin %s", websocket.headers.get("origin"))
        return await refuse(websocket, Close.FORBIDDEN, "origin not allowed")
    try:
        record, caller = await session_caller(websocket)
    except ApiError as exc:
        return await refuse(websocket, _close_for(exc), exc.detail)
    access = caller.access
    try:
        live = await hub.room(record)
    except OwnedElsewhere as elsewhere:
        return await _relayed(websocket, hub, record.id, caller, elsewhere.lease)
    except SessionDeleted:
        return await refuse(websocket, Close.NOT_FOUND, "this session was deleted")
    except Exception as exc:
        log.exception("session %s: the room could not be loaded", record.id)
        return await refuse(
            websocket, Close.UNAVAILABLE, f"the notebook could not be loaded: {exc}"[:120]
        )
    if hub.store_error is not None:  # joining needs a write; say why instead of hanging
        reason = f"the hub cannot write to its store: {hub.store_error}"
        return await refuse(websocket, Close.UNAVAILABLE, reason[:120])
    role = _role(access)
    if live.seats_taken(role) >= settings.seat_limit(role is Role.EDIT):
        who = "editors" if role is Role.EDIT else "viewers"
        return await refuse(websocket, Close.FULL, f"the session is full: no more {who}")
    await websocket.accept()
    peer = WebSocketPeer(hub.next_peer_id(), websocket, settings.max_send_buffer_bytes)
    live.connect(peer, role, _joined(caller))
    expiry = await _admitted(websocket, hub, record.id, caller, peer)
    take = _Taker(live, peer, settings, _bucket(settings))
    # frames read from now on go to the room in the read callback; the loop below takes what
    # queued before (during the checks above), text frames, and the disconnect
    peer.take_frames(take)
    try:
        while not peer.closed:
            try:
                message = await websocket.receive()
            except WebSocketDisconnect:
                break
            if message["type"] == "websocket.disconnect":
                break
            take(message)
            del message  # not held while the next one is awaited (an idle peer's)
    finally:
        peer.take_frames(None)  # the inbox no longer holds the room through `take`
        if expiry is not None:
            expiry.cancel()
        live.disconnect(peer.id)
        await peer.wait_closed()


class _Taker:
    """One participant's received messages into its room: checked (`_acceptable`), then
    applied. Called by the endpoint's loop and by the connection's read callback
    (`WebSocketPeer.take_frames`), so it never raises: a bug of ours closes this peer only."""

    __slots__ = ("bucket", "live", "peer", "settings")

    def __init__(
        self, live: LiveRoom, peer: WebSocketPeer, settings: Settings, bucket: TokenBucket
    ) -> None:
        self.live, self.peer, self.settings, self.bucket = live, peer, settings, bucket

    def __call__(self, message: Message) -> None:
        peer = self.peer
        if peer.closed:
            return
        if (data := _acceptable(message, peer, self.settings, self.bucket)) is None:
            return  # refused: the peer is closed
        try:
            self.live.receive(peer.id, data)
        except Exception:  # a bug of ours: this peer goes, the room carries on
            log.exception("session %s: peer %s: message not handled", self.live.id, peer.id)
            peer.close(Close.UNAVAILABLE, "internal error handling your message")


def _close_for(exc: ApiError) -> int:
    return _CODE_TO_CLOSE.get(exc.code) or _STATUS_TO_CLOSE.get(exc.status, Close.FORBIDDEN)


def _joined(caller: Caller) -> dict[str, Any]:
    """How a connection joined, for its join event and for closing it when its link goes."""
    user: dict[str, Any] = {"access": str(caller.access)}
    if caller.link is not None:
        user.update(link=caller.link.id, link_name=caller.link.name)
    elif caller.user is not None:
        user.update(user=caller.user.name, groups=list(caller.user.groups))
    return user


async def _admitted(
    websocket: WebSocket, hub: Hub, session_id: str, caller: Caller, peer: WebSocketPeer
) -> asyncio.TimerHandle | None:
    """Once joined: checked again (a revocation or rotation while the room loaded would miss
    it), the named link's `last_seen` set, and its expiry timed (the peer is closed then)."""
    try:
        if caller.user is not None and caller.link is None and not token_of(websocket):
            _, now = await resolve_user(hub, session_id, caller.user, fresh=True)
        else:
            _, now = await resolve(hub, session_id, token_of(websocket) or "", fresh=True)
    except ApiError as exc:
        peer.close(_close_for(exc), exc.detail)
        return None
    if now is None or now.access is not caller.access:
        what = "this link was revoked" if caller.user is None else "your access was taken away"
        peer.close(Close.LINK_REVOKED, what)
        return None
    link = caller.link
    if link is None:
        return None
    try:
        await hub.run_io(hub.store.touch_link, session_id, link.id, time.time())
    except Exception:
        log.warning("session %s: could not note that link %s was used", session_id, link.id)
    if link.expires is None:
        return None
    return asyncio.get_running_loop().call_later(
        max(0.0, link.expires - time.time()), peer.close, Close.UNAUTHORIZED, "this link expired"
    )


async def _relayed(
    websocket: WebSocket, hub: Hub, room: str, caller: Caller, lease: Lease | None
) -> None:
    """A participant of a room another hub owns: its frames go to the owner and back."""
    assert hub.cluster is not None
    access = caller.access
    link = (caller.link.id, caller.link.name) if caller.link is not None else None
    user = (caller.user.name, caller.user.groups) if caller.user and link is None else None
    if lease is None or not lease.live:
        return await refuse(websocket, Close.MOVED, "the session is moving to another hub")
    await websocket.accept()
    peer = WebSocketPeer(hub.next_peer_id(), websocket, hub.settings.max_send_buffer_bytes)
    edge = hub.cluster.edge
    try:
        conn = await edge.join(room, peer, str(_role(access)), str(access), lease, link, user)
    except Exception as exc:
        log.exception("session %s: relaying to its owner %s failed", room, lease.node)
        peer.close(Close.UNAVAILABLE, f"the hub running this session is unreachable: {exc}"[:120])
        return await peer.wait_closed()
    bucket = _bucket(hub.settings)
    expiry = await _admitted(websocket, hub, room, caller, peer)
    try:
        while not peer.closed:
            try:
                message = await websocket.receive()
            except WebSocketDisconnect:
                break
            if message["type"] == "websocket.disconnect":
                break
            if (data := _acceptable(message, peer, hub.settings, bucket)) is None:
                continue  # refused: the peer is closed, which ends the loop
            try:
                await edge.frame(conn, data)
            except Exception:
                log.exception("session %s: relaying a frame to %s failed", room, lease.node)
                peer.close(Close.UNAVAILABLE, "the hub running this session is unreachable")
            del message, data
    finally:
        if expiry is not None:
            expiry.cancel()
        await edge.leave(conn)
        await peer.wait_closed()


def _bucket(settings: Settings) -> TokenBucket:
    return TokenBucket(settings.rate_messages_per_s, settings.rate_burst, time.monotonic())


def _acceptable(
    message: Message, peer: WebSocketPeer, settings: Settings, bucket: TokenBucket
) -> bytes | None:
    """The frame a received message carries; None if it was refused (and the peer closed for
    it). The caller awaits `receive()` itself: a helper coroutine around it would stay
    suspended, a frame's worth of memory, for every idle peer."""
    data: bytes | None = message.get("bytes")
    if data is None:
        peer.close(Close.BAD_FRAME, "y-websocket messages are binary frames")
    elif len(data) > settings.max_message_bytes:
        peer.close(Close.TOO_BIG, f"message over {settings.max_message_bytes} bytes")
    elif not bucket.take(time.monotonic()):
        peer.close(Close.RATE, "too many messages: slow down")
    else:
        return data
    return None


def _role(access: Access) -> Role:
    return Role.EDIT if can_edit(access) else Role.VIEW


routes = [WebSocketRoute("/ws/{session_id}", join)]


class DirectJoin:
    """ASGI middleware: a websocket to /ws/{session_id} (under `prefix`, if the hub is served
    under one) goes straight to `join`, and every websocket's scope keeps the server's own
    `send` (RAW_SEND: `WebSocketPeer` writes to uvicorn's transport through it), before
    anything wraps it.

    The router and the exception middleware add a chain of wrappers, closures and scope copies
    that stay alive as long as the connection (~4 KB each of 500 idle viewers); `join` handles
    every error it expects itself, so they add nothing to it. Anything else still goes through
    them (the route stays, for any app built without this)."""

    def __init__(self, app: ASGIApp, prefix: str = "") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND] = send
            child = self._matched(scope)
            if child is not None:
                scope.update(child)
                await join(WebSocket(scope, receive, send))
                return
        await self.app(scope, receive, send)

    def _matched(self, scope: Scope) -> dict[str, Any] | None:
        """What the router (and the prefix's Mount) would add to the scope; None: not ours."""
        extra: dict[str, Any] = {}
        if self.prefix:  # as the Mount would: the prefix becomes part of the root path
            outer = scope.get("root_path", "")
            root = outer + self.prefix
            if not scope["path"].startswith(root + "/"):
                return None
            extra = {"root_path": root, "app_root_path": scope.get("app_root_path", outer)}
        match, child = routes[0].matches({**scope, **extra})
        return {**extra, **child} if match is Match.FULL else None
