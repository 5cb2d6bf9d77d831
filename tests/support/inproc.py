"""The hub's app in this process: Starlette's TestClient runs it (lifespan, HTTP, websockets) on
an event loop in a helper thread, on a tmp root and data folder with a real SQLite store.

`InProcHub` does the HTTP API; `Peer` is a y-websocket participant over the TestClient websocket,
synchronous, with a deadline on every wait.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx
from jupyter_ydoc import YNotebook
from pycrdt import Awareness, Doc, TransactionEvent
from starlette.applications import Starlette
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.types import Message

from collabd.api.app import create_app
from collabd.docview import NotebookOps
from collabd.hub import Hub
from collabd.settings import Settings
from collabd.sync import protocol
from collabd.sync.protocol import Kind

from .hubproc import TOKEN

WAIT_S = 30.0
T = TypeVar("T")


class Closed(Exception):
    """The hub closed the connection (code and reason as sent)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code} {reason}")
        self.code, self.reason = code, reason


def receive(ws: WebSocketTestSession, timeout: float = WAIT_S) -> Message:
    """The next message the app sent on this websocket; TimeoutError past `timeout`.

    (TestClient's own receive() waits forever; this reads the same stream with a deadline.)
    """
    stream = ws._send_rx

    async def next_message() -> Message:
        with anyio.fail_after(timeout):
            return await stream.receive()

    return ws.portal.call(next_message)


def received_now(ws: WebSocketTestSession) -> list[Message]:
    """The messages the app has sent on this websocket and nobody read yet, without waiting."""
    stream = ws._send_rx
    found: list[Message] = []

    def take() -> None:
        while True:
            try:
                found.append(stream.receive_nowait())
            except anyio.WouldBlock:
                return

    ws.portal.call(take)
    return found


def until_closed(ws: WebSocketTestSession, timeout: float = WAIT_S) -> tuple[int, str, list[Any]]:
    """Every frame received, then the close code and reason."""
    frames: list[Any] = []
    while True:
        message = receive(ws, timeout)
        if message["type"] == "websocket.close":
            return int(message.get("code", 1000)), str(message.get("reason") or ""), frames
        frames.append(message.get("bytes", message.get("text")))


class InProcHub:
    """create_app(Settings(...)) under a TestClient; `restart()` stops it and starts a new app on
    the same root and data (the same SQLite file), as a restarted process would."""

    def __init__(
        self,
        root: Path,
        data: Path,
        token: str = TOKEN,
        *,
        peer: tuple[str, int] = ("testclient", 50000),
        **settings: Any,
    ) -> None:
        """`peer`: the address requests come from, as the app sees it (a trusted proxy's?)."""
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.data, self.token, self.address = root, data, token, peer
        self.settings = Settings(root=root, data=data, token=token, **settings)
        self._client: TestClient | None = None

    # lifecycle

    def start(self) -> InProcHub:
        settings = dataclasses.replace(self.settings)  # the app may not change ours
        self._client = TestClient(
            create_app(settings), raise_server_exceptions=True, client=self.address
        )
        self._client.__enter__()
        return self

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.__exit__(None, None, None)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def client(self) -> TestClient:
        assert self._client is not None, "the app is not running"
        return self._client

    @property
    def app(self) -> Starlette:
        app = self.client.app
        assert isinstance(app, Starlette)
        return app

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.hub
        return hub

    def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run `fn(*args)` (a coroutine function or a plain one) on the app's event loop."""
        return self.client.portal.call(fn, *args)  # type: ignore[union-attr]

    # HTTP

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        token: str | None = None,
        *,
        content: bytes | None = None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token if token is not None else self.token}"}
        if body is not None:
            content = json.dumps(body).encode()
        if content is not None:
            headers["Content-Type"] = "application/json"
        return self.client.request(method, path, content=content, headers=headers)

    def api(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        response = self.request(method, path, body, token)
        try:
            return response.status_code, response.json()
        except ValueError:
            return response.status_code, response.text

    def create_session(self, path: str = "nb.ipynb") -> dict[str, Any]:
        status, body = self.api("POST", "/api/sessions", {"path": path})
        assert status in (200, 201), body
        return dict(body)

    def notebook(self, session: dict[str, Any]) -> dict[str, Any]:
        status, nb = self.api(
            "GET", f"/api/sessions/{session['id']}/notebook", token=session["view_token"]
        )
        assert status == 200, nb
        return dict(nb)

    # websockets

    @contextmanager
    def websocket(
        self, session_id: str, token: str | None, origin: str | None = None
    ) -> Iterator[WebSocketTestSession]:
        url = f"/ws/{session_id}" if token is None else f"/ws/{session_id}?token={token}"
        headers = {"origin": origin} if origin is not None else {}
        with self.client.websocket_connect(url, headers=headers) as ws:
            yield ws

    @contextmanager
    def peer(
        self, session: dict[str, Any], token: str | None = None, name: str = "peer"
    ) -> Iterator[Peer]:
        """A participant joined with the session's edit token (or `token`), synced."""
        with self.websocket(session["id"], token or session["edit_token"]) as ws:
            peer = Peer(ws, name)
            peer.join()
            yield peer
            peer.leave()


class Peer(NotebookOps):
    """A y-websocket participant: its own pycrdt document, kept in sync frame by frame."""

    def __init__(self, ws: WebSocketTestSession, name: str) -> None:
        self.ws = ws
        self.doc: Doc[Any] = Doc()
        self.notebook = YNotebook(self.doc)
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state({"user": {"name": name}})
        self.denied: list[str] = []
        self.answers: list[dict[str, Any]] = []  # answers to collabd requests, as they came
        self.close: Closed | None = None
        self.synced = False
        self._remote = False
        self._left = False
        self.doc.observe(self._on_local_change)

    @property
    def client_id(self) -> int:
        return self.doc.client_id

    def join(self) -> None:
        self.send(protocol.sync_step1(self.doc.get_state()))
        self.set_presence()
        self.wait_for(lambda: self.synced)

    def leave(self) -> None:
        if not self._left and self.close is None:
            self._left = True
            self.ws.close(1000)

    def send(self, frame: bytes) -> None:
        if self.close is None and not self._left:
            self.ws.send_bytes(frame)

    def _on_local_change(self, event: TransactionEvent) -> None:
        if not self._remote:
            self.send(protocol.update(event.update))

    def set_presence(self, **fields: Any) -> None:
        state = dict(self.awareness.get_local_state() or {})
        state.update(fields)
        self.awareness.set_local_state(state)
        update = self.awareness.encode_awareness_update([self.client_id])
        self.send(protocol.awareness(update))

    def others(self) -> dict[int, dict[str, Any]]:
        return {cid: s for cid, s in self.awareness.states.items() if cid != self.client_id}

    # receiving

    def pump(self, timeout: float = WAIT_S) -> None:
        """Handle the next frame from the hub (TimeoutError if none comes)."""
        self._handle(receive(self.ws, timeout))

    def drain(self) -> None:
        """Handle every frame that has arrived, without waiting for more."""
        for message in received_now(self.ws):
            self._handle(message)

    def _handle(self, message: Message) -> None:
        if message["type"] == "websocket.close":
            self.close = Closed(int(message.get("code", 1000)), str(message.get("reason") or ""))
            return
        frame = message.get("bytes")
        assert frame is not None, f"the hub sent a text frame: {message!r}"
        parsed = protocol.parse(frame)
        if parsed.kind is Kind.SYNC_STEP1:
            self.send(protocol.sync_step2(self.doc.get_update(parsed.payload)))
        elif parsed.kind in (Kind.SYNC_STEP2, Kind.UPDATE):
            self._remote = True
            try:
                self.doc.apply_update(parsed.payload)
            finally:
                self._remote = False
            self.synced = self.synced or parsed.kind is Kind.SYNC_STEP2
        elif parsed.kind is Kind.AWARENESS:
            self.awareness.apply_awareness_update(parsed.payload, "remote")
        elif parsed.kind is Kind.AUTH:
            self.denied.append(parsed.payload[2:].decode(errors="replace"))
        elif parsed.kind is Kind.REQUEST:
            self.answers.append(json.loads(parsed.payload))

    def wait_for(self, predicate: Callable[[], T], timeout: float = WAIT_S) -> T:
        """Handle frames until predicate() is truthy (checked after every frame, and at least
        every 0.1 s for what does not come as a frame); return its value."""
        end = time.monotonic() + timeout
        while not (value := predicate()):
            if self.close is not None:
                raise self.close
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            with contextlib.suppress(TimeoutError):
                self.pump(min(remaining, 0.1))
        return value


AppFactory = Callable[..., InProcHub]  # the app_factory fixture: (**settings) -> a started app
