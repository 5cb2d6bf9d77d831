"""A Python participant: join a session link from a script, edit cells, watch outputs, run code.

    async with NotebookClient.from_link(edit_url, name="bot") as nb:
        cell_id = nb.insert_cell(0, "print(6 * 7)")
        await nb.run(cell_id)
        await nb.wait_for(lambda: nb.outputs(cell_id))

Tests and benchmarks use it; so can bots. It speaks the standard y-websocket protocol with pycrdt.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit

from jupyter_ydoc import YNotebook
from pycrdt import Awareness, Doc, TransactionEvent
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from collabd.client_http import HttpPool
from collabd.docview import NotebookOps
from collabd.sync import protocol
from collabd.sync.protocol import Kind
from collabd.sync.wire import Close


class ClientError(RuntimeError):
    """The hub refused a request; `status` and `error` come from its JSON error."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status, self.error, self.detail = status, error, detail


class NotebookClient(NotebookOps):
    def __init__(
        self,
        base_url: str,
        session_id: str,
        token: str,
        *,
        name: str = "python",
        headers: dict[str, str] | None = None,
    ) -> None:
        """`token` "" with `headers` that sign in (a JupyterHub cookie, a trusted proxy's user
        header): the client is that signed-in user."""
        self.base_url = base_url.rstrip("/")
        self.session_id = session_id
        self.token = token
        self.headers = dict(headers or {})
        self.name = name
        self.doc: Doc[Any] = Doc()
        self.notebook = YNotebook(self.doc)
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state({"user": {"name": name}})
        self.denied: list[str] = []  # permission-denied reasons the hub sent
        self.close_code: int | None = None
        self.close_reason: str = ""
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        self._step2_waiters: list[asyncio.Future[None]] = []
        self._changed = asyncio.Event()
        self._applying_remote = False
        self._asked: dict[int, asyncio.Future[dict[str, Any]]] = {}  # requests awaiting answers
        self._last_request = 0
        self._sending: set[asyncio.Task[None]] = set()  # frames queued to go out, in order
        self.doc.observe(self._on_local_change)
        self._http = HttpPool(self.base_url)  # keep-alive: a run's POST reuses a connection

    @classmethod
    def from_link(cls, link: str, *, name: str = "python") -> NotebookClient:
        """From an edit or view link: http://host:port/s/<id>#token=<token>."""
        parts = urlsplit(link)
        session_id = parts.path.rstrip("/").split("/")[-1]
        token = dict(p.split("=", 1) for p in parts.fragment.split("&") if "=" in p).get("token")
        if not token or not parts.path.startswith("/s/"):
            raise ValueError("expected a session link like http://host/s/<id>#token=<token>")
        return cls(f"{parts.scheme}://{parts.netloc}", session_id, token, name=name)

    @property
    def client_id(self) -> int:
        return self.doc.client_id

    # connection

    async def connect(self, *, timeout: float = 30.0) -> None:
        ws_base = self.base_url.replace("http", "ws", 1)
        url = f"{ws_base}/ws/{self.session_id}?token={quote(self.token)}"
        self._ws = await connect(
            url, max_size=None, open_timeout=timeout, additional_headers=self.headers
        )
        self._reader = asyncio.create_task(self._read())
        await self._ws.send(protocol.sync_step1(self.doc.get_state()))
        await self._send_presence()
        await self.wait_synced(timeout)

    async def close(self) -> None:
        self._http.close()
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)

    async def reconnect(self, *, timeout: float = 30.0) -> None:
        """Drop the connection and join again with the same document (offline edits included)."""
        await self.close()
        self._synced.clear()
        await self.connect(timeout=timeout)

    async def __aenter__(self) -> NotebookClient:
        await self.connect()
        return self

    async def __aexit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def wait_synced(self, timeout: float = 30.0) -> None:
        waiter = asyncio.ensure_future(self._synced.wait())
        _done, _ = await asyncio.wait(
            {waiter, self._reader_task()}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        waiter.cancel()
        if not self._synced.is_set():
            raise ClientError(0, "not_synced", f"closed {self.closed_because}".strip())

    def _reader_task(self) -> asyncio.Task[None]:
        assert self._reader is not None
        return self._reader

    @property
    def closed_because(self) -> str:
        """The hub's close code, by its name in the wire constants, and its reason."""
        if self.close_code is None:
            return ""
        try:
            name = Close(self.close_code).name
        except ValueError:
            name = "?"
        return f"{self.close_code} ({name}) {self.close_reason}"

    @property
    def connected(self) -> bool:
        return self._reader is not None and not self._reader.done()

    async def _read(self) -> None:
        ws = self._ws
        assert ws is not None
        try:
            async for frame in ws:
                if isinstance(frame, bytes):
                    await self._handle(frame)
        except ConnectionClosed:
            pass
        finally:
            received = ws.protocol.close_rcvd
            if received is not None:
                self.close_code, self.close_reason = received.code, received.reason
            asked, self._asked = self._asked, {}
            for waiter in asked.values():  # sent, but whether the hub did it is unknown
                if not waiter.done():
                    waiter.set_exception(
                        ClientError(0, "closed", f"closed before the answer {self.closed_because}")
                    )
            self._changed.set()

    async def _handle(self, frame: bytes) -> None:
        message = protocol.parse(frame)
        if message.kind is Kind.SYNC_STEP1:
            await self._send(protocol.sync_step2(self.doc.get_update(message.payload)))
        elif message.kind in (Kind.SYNC_STEP2, Kind.UPDATE):
            self._applying_remote = True
            try:
                self.doc.apply_update(message.payload)
            finally:
                self._applying_remote = False
            if message.kind is Kind.SYNC_STEP2:
                self._synced.set()
                waiters, self._step2_waiters = self._step2_waiters, []
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        elif message.kind is Kind.AWARENESS:
            self.awareness.apply_awareness_update(message.payload, "remote")
        elif message.kind is Kind.AUTH:
            self.denied.append(message.payload[2:].decode(errors="replace"))
        elif message.kind is Kind.REQUEST:
            answer = json.loads(message.payload)
            rid = answer.get("id") if isinstance(answer, dict) else None
            asked = self._asked.pop(rid, None) if type(rid) is int else None
            if asked is not None and not asked.done():
                asked.set_result(answer)
        self._changed.set()

    def _on_local_change(self, event: TransactionEvent) -> None:
        if self._applying_remote or self._ws is None:
            return
        self._send_later(protocol.update(event.update))

    def _send_later(self, data: bytes) -> None:
        """Send `data` from a task of its own (a document observer cannot await); frames
        queued so go out in the order they were queued."""
        task = asyncio.get_running_loop().create_task(self._send(data))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send_in_order(self, data: bytes) -> None:
        """Send `data` after every frame queued before it: at once when none waits."""
        if self._sending:
            self._send_later(data)
        else:
            await self._send(data)

    async def _send(self, data: bytes) -> None:
        if self._ws is not None:
            with contextlib.suppress(ConnectionClosed):
                await self._ws.send(data)

    async def _send_presence(self) -> None:
        update = self.awareness.encode_awareness_update([self.client_id])
        await self._send(protocol.awareness(update))

    async def set_presence(self, **fields: Any) -> None:
        state = dict(self.awareness.get_local_state() or {})
        state.update(fields)
        self.awareness.set_local_state(state)
        await self._send_presence()

    def others(self) -> dict[int, dict[str, Any]]:
        return {cid: s for cid, s in self.awareness.states.items() if cid != self.client_id}

    # waiting

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
        """Wait until predicate() is truthy (checked after every message); return its value.

        A predicate that looks up a cell this document does not have yet (KeyError) is not met
        yet: a run asked on the websocket is answered as soon as it is queued, which can be
        before another participant has the cell it was typed into."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                value = predicate()
            except KeyError:
                value = None
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("condition not met in time")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, 0.25)):
                    await self._changed.wait()

    # HTTP

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return await asyncio.to_thread(self._request, method, path, body)

    def _request(self, method: str, path: str, body: dict[str, Any] | None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        headers = {**self._auth(), "Content-Type": "application/json", **self.headers}
        resp = self._http.request(method, f"/api/sessions/{self.session_id}{path}", data, headers)
        if resp.status >= 400:
            try:
                info = json.loads(resp.body)
            except ValueError:
                info = {}
            if not isinstance(info, dict):
                info = {}
            raise ClientError(
                resp.status,
                info.get("error", "http_error"),
                info.get("detail", f"HTTP {resp.status}"),
            )
        return json.loads(resp.body) if resp.body else None

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def flush(self, timeout: float = 30.0) -> None:
        """Wait until the hub has every edit made here so far.

        The hub answers a sync step 1 after the frames sent before it, with everything applied:
        so once its step 2 is back, a request about those edits finds them (the page does the
        same before a run)."""
        if self._ws is None:
            return
        waiter = asyncio.get_running_loop().create_future()
        self._step2_waiters.append(waiter)
        await self._send_in_order(protocol.sync_step1(self.doc.get_state()))  # after the edits
        async with asyncio.timeout(timeout):
            await waiter

    async def ask(self, op: str, fields: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """A collabd request over the websocket (`collabd.sync.requests`), sent after every
        edit made here so far; its answer's fields, or ClientError as HTTP would refuse it."""
        if self._ws is None or not self.connected:
            raise ClientError(0, "not_connected", "not connected to the hub")
        self._last_request += 1
        rid = self._last_request
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._asked[rid] = waiter
        body = json.dumps({"id": rid, "op": op, **fields}).encode()
        try:
            await self._send_in_order(protocol.request(body))  # after the edits
            async with asyncio.timeout(timeout):
                answer = await waiter
        finally:
            self._asked.pop(rid, None)
        if not answer.get("ok"):
            raise ClientError(
                int(answer.get("status", 0)),
                str(answer.get("error", "refused")),
                str(answer.get("detail", "")),
            )
        return {k: v for k, v in answer.items() if k not in ("id", "ok")}

    async def run(self, *cell_ids: str, over: str = "websocket") -> Any:
        """Queue cells to run on the shared kernel, as this participant, after its edits: over
        the websocket they travel on (the default), or `over="http"` (`POST …/execute`, once
        the hub has confirmed it has every edit made here)."""
        by = {"name": self.name, "client_id": self.client_id}
        body: dict[str, Any] = (
            {"cell_id": cell_ids[0], "by": by}
            if len(cell_ids) == 1
            else {"cell_ids": list(cell_ids), "by": by}
        )
        if over == "websocket":
            return await self.ask("execute", body)
        if over != "http":
            raise ValueError(f'over: "websocket" or "http", not {over!r}')
        await self.flush()
        return await self.request("POST", "/execute", body)

    async def notebook_json(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("GET", "/notebook")
        return result
