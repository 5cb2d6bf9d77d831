"""A kernel on another machine: `collabd.kernel.base.Kernel` over the Jupyter Kernel Gateway API.

HTTP (httpx) starts, interrupts, checks and deletes the kernel: `POST /api/kernels {"name"}`,
`POST /api/kernels/{id}/interrupt`, `GET /api/kernels/{id}`, `DELETE /api/kernels/{id}`. One
websocket, `/api/kernels/{id}/channels`, carries the Jupyter messages both ways as JSON with a
`channel` field (the legacy protocol: no subprotocol is asked for), and a message with binary
buffers (ipywidgets') as one binary frame (`collabd.kernel.wsframes`). It is reconnected with
the same `session_id` when it drops, so the gateway replays what it buffered meanwhile; a hub
that re-attaches after a restart connects with the `session_id` its predecessor used (kept with
the choice), so it gets what the kernel sent while no hub listened, as far as the gateway kept it
(a Jupyter server buffers a closed connection's messages for its next one with the same id).

Whether the kernel still lives is asked of the gateway: gone (404) is death at once; a gateway
that does not answer is death only after `grace_s`, so a short network hiccup costs nothing. A
`restarting` or `dead` status from the gateway itself (its kernel process died and it restarted
it, with a blank state) is death too. `exit_reason` says which, in words, and never contains the
host's address or token (`hosts.redact`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
from jupyter_client.session import Session, new_id
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from collabd.kernel import wsframes
from collabd.kernel.base import (
    NO_EXTRAS,
    Inbox,
    KernelMessage,
    KernelStartError,
    RunExtras,
    execute_content,
)
from collabd.kernel.hosts import KernelHost, kernel_start_body, redact

log = logging.getLogger("collabd.kernel.gateway")

START_TIMEOUT_S = 120.0  # POST /api/kernels: the gateway waits for the kernel process
HTTP_TIMEOUT_S = 10.0
CHECK_TIMEOUT_S = 5.0
CHECK_EVERY_S = 1.0  # at most this often is the gateway asked whether the kernel lives
READY_TIMEOUT_S = 60.0
GRACE_S = 10.0  # an unreachable gateway is given this long before its kernel counts as dead
MAX_FRAME_BYTES = 256 * 1024 * 1024
EXIT_GONE = 1  # the gateway no longer has the kernel
EXIT_UNREACHABLE = 2  # the gateway did not answer for longer than the grace period
EXIT_RESTARTED = 3  # the kernel process died on the gateway (which restarted it, blank)


class GatewayError(Exception):
    """A gateway request failed; the message names the host, never its address or token."""


class GatewayClient:
    """The HTTP side of one kernel host."""

    def __init__(self, host: KernelHost) -> None:
        self.host = host
        headers = {"Authorization": f"token {host.token}"} if host.token else {}
        self.http = httpx.AsyncClient(base_url=host.url, headers=headers, timeout=HTTP_TIMEOUT_S)
        _quiet_request_logs(host.url)

    async def close(self) -> None:
        await self.http.aclose()

    async def request(
        self, method: str, path: str, *, json_body: Any = None, timeout: float = HTTP_TIMEOUT_S
    ) -> httpx.Response:
        try:
            return await self.http.request(method, path, json=json_body, timeout=timeout)
        except httpx.HTTPError as exc:
            raise GatewayError(self.unreachable(exc)) from None

    def unreachable(self, exc: BaseException) -> str:
        why = redact(str(exc) or type(exc).__name__, self.host)
        return f"the kernel host {self.host.name!r} cannot be reached ({why})"

    def refused(self, response: httpx.Response, doing: str) -> str:
        detail = ""
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict):
                detail = str(body.get("message") or body.get("reason") or "")
        detail = redact(detail[:300], self.host)
        more = f": {detail}" if detail else ""
        if response.status_code in (401, 403):
            # Enterprise Gateway also answers 403 for a user it does not allow: say its words
            return (
                f"the kernel host {self.host.name!r} refused the hub while {doing} "
                f"(HTTP {response.status_code}{more}): check its token in COLLABD_KERNEL_HOSTS"
            )
        return (
            f"the kernel host {self.host.name!r} answered HTTP {response.status_code} "
            f"while {doing}{more}"
        )

    async def kernelspecs(self) -> list[dict[str, Any]]:
        """The host's kernel specs as `{"name", "display_name", "language"}`."""
        response = await self.request("GET", "/api/kernelspecs")
        if response.status_code != 200:
            raise GatewayError(self.refused(response, "listing its kernel specs"))
        try:
            specs = response.json()["kernelspecs"]
        except (ValueError, KeyError, TypeError):
            raise GatewayError(f"the kernel host {self.host.name!r} sent no kernel specs") from None
        found = []
        for name, entry in sorted(specs.items()):
            spec = entry.get("spec") if isinstance(entry, dict) else None
            spec = spec if isinstance(spec, dict) else {}
            found.append(
                {
                    "name": str(name),
                    "display_name": str(spec.get("display_name") or name),
                    "language": str(spec.get("language") or ""),
                }
            )
        return found

    def channels_url(self, kernel_id: str, session_id: str) -> str:
        parts = urlsplit(self.host.url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        path = f"{parts.path}/api/kernels/{quote(kernel_id)}/channels"
        return urlunsplit((scheme, parts.netloc, path, f"session_id={quote(session_id)}", ""))


class GatewayKernel:
    """A kernel started on (or, with `kernel_id`, already running on) a Kernel Gateway."""

    def __init__(
        self,
        name: str,
        host: KernelHost,
        *,
        kernel_id: str | None = None,
        session_id: str | None = None,
        folder: str = "",
        grace_s: float = GRACE_S,
        on_started: Callable[[str, str], None] | None = None,
        signer: Callable[[str], str] | None = None,
    ) -> None:
        self.name = name
        self.host = host.name
        self.kernel_id = kernel_id  # given: re-attach to it if the gateway still has it
        self.attached = False
        self.exit_reason: str | None = None
        self._on_started = on_started
        self._signer = signer
        self._host = host
        self._folder = folder  # the notebook's folder, relative to the hub's root
        self._grace_s = grace_s
        self._client: GatewayClient | None = None
        # the websocket's session: the same one when re-attaching, so the gateway replays
        self._session = Session(key=b"", username="collabd", session=session_id or new_id())
        self._control: dict[str, asyncio.Future[None]] = {}  # kernel_info sent on control
        self._inbox = Inbox()
        self._outbox: asyncio.Queue[str | bytes] = asyncio.Queue()
        self._unsent: str | bytes | None = None  # taken from the outbox, not yet sent
        self._channels: asyncio.Task[None] | None = None
        self._exit_code: int | None = None
        self._checked_at = 0.0
        self._unreachable_since: float | None = None
        self._closed = False

    # start

    async def start(self) -> None:
        client = self._client = GatewayClient(self._host)
        try:
            if self.kernel_id is not None:
                self.attached = await self.exists()
                if not self.attached:
                    log.info("kernel on host %s: gone since last time; starting one", self.host)
            if not self.attached:
                self._session.session = new_id()  # nothing to replay from another kernel
                self.kernel_id = await self._create(client)
            ws = await self._connect()
        except GatewayError as exc:
            raise KernelStartError(str(exc)) from None
        self._channels = asyncio.create_task(self._keep_channels(ws), name="gateway-channels")
        try:
            await self._wait_ready()
        except TimeoutError:
            raise KernelStartError(
                f"kernel {self.name!r} on host {self.host!r} did not answer within "
                f"{READY_TIMEOUT_S:g} s"
            ) from None
        if self.attached:
            log.info("kernel %s on host %s: re-attached", self.name, self.host)
        if self._on_started is not None and self.kernel_id is not None:
            self._on_started(self.kernel_id, self._session.session)

    async def _create(self, client: GatewayClient) -> str:
        body = kernel_start_body(self._host, self.name, self._folder)
        response = await client.request(
            "POST", "/api/kernels", json_body=body, timeout=START_TIMEOUT_S
        )
        if response.status_code in (200, 201):
            kernel_id = response.json().get("id")
            if isinstance(kernel_id, str) and kernel_id:
                return kernel_id
        if response.status_code in (400, 404, 500):
            with contextlib.suppress(GatewayError):
                names = [spec["name"] for spec in await client.kernelspecs()]
                if self.name not in names:
                    raise KernelStartError(
                        f"no kernelspec named {self.name!r} on host {self.host!r} "
                        f"(it has: {', '.join(names) or 'none'})"
                    )
        raise GatewayError(client.refused(response, f"starting kernel {self.name!r}"))

    async def exists(self) -> bool:
        """Whether the gateway has this kernel (raises GatewayError if it cannot tell)."""
        client = self._require_client()
        response = await client.request(
            "GET", f"/api/kernels/{quote(self.kernel_id or '')}", timeout=CHECK_TIMEOUT_S
        )
        if response.status_code == 404:
            return False
        if response.status_code != 200:
            raise GatewayError(client.refused(response, "checking the kernel"))
        return True

    async def _connect(self) -> ClientConnection:
        client = self._require_client()
        url = client.channels_url(self.kernel_id or "", self._session.session)
        headers = {"Authorization": f"token {self._host.token}"} if self._host.token else {}
        try:
            return await connect(
                url, additional_headers=headers, max_size=MAX_FRAME_BYTES, open_timeout=15
            )
        except (OSError, TimeoutError, WebSocketException) as exc:
            raise GatewayError(
                f"the kernel host {self.host!r} refused the kernel's channels "
                f"({redact(str(exc) or type(exc).__name__, self._host)})"
            ) from None

    async def _wait_ready(self) -> None:
        """Ask for kernel_info until it answers; for a new kernel, messages before the answer are
        dropped. A re-attached kernel may be busy running a cell (whose messages must reach the
        hub): it is asked on the control channel, which a busy kernel still answers."""
        if self.attached:
            await self._wait_control_ready()
            return
        async with asyncio.timeout(READY_TIMEOUT_S):
            while True:
                msg_id = self._send("shell", "kernel_info_request", {})
                deadline = time.monotonic() + 5.0
                while (left := deadline - time.monotonic()) > 0:
                    message = await self.receive(left)
                    if message is not None and message.parent_id == msg_id:
                        return
                    if self.exit_reason is not None:
                        raise KernelStartError(self.exit_reason)

    async def _wait_control_ready(self) -> None:
        async with asyncio.timeout(READY_TIMEOUT_S):
            while True:
                msg_id = self._send("control", "kernel_info_request", {})
                answered = self._control[msg_id] = asyncio.get_running_loop().create_future()
                try:
                    async with asyncio.timeout(5.0):
                        await answered
                    return
                except TimeoutError:
                    if self.exit_reason is not None:
                        raise KernelStartError(self.exit_reason) from None
                finally:
                    self._control.pop(msg_id, None)

    def sign_run(self, msg_id: str, cell_id: str) -> str | None:
        """A MAC binding a run (msg id, cell) to this kernel: what lets a restarted hub trust the
        run it finds in flight (`collabd.kernel.inflight`); None without a signer."""
        if self._signer is None or self.kernel_id is None:
            return None
        return self._signer(f"run\0{self.kernel_id}\0{msg_id}\0{cell_id}")

    # the Kernel protocol

    async def execute(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        content = execute_content(code, extras)
        return self._send("shell", "execute_request", content, metadata=extras.metadata)

    async def request(
        self, msg_type: str, content: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        msg_id = self._send("shell", msg_type, content)
        return await self._inbox.reply_to(msg_id, timeout)

    async def receive(self, timeout: float) -> KernelMessage | None:
        return await self._inbox.get(timeout)

    def answer_input(self, value: str) -> None:
        self._send("stdin", "input_reply", {"value": value})

    async def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        buffers: Sequence[bytes] = (),
        metadata: dict[str, Any] | None = None,
    ) -> str:
        return self._send("shell", msg_type, content, buffers, metadata)

    async def interrupt(self) -> None:
        client = self._require_client()
        response = await client.request(
            "POST", f"/api/kernels/{quote(self.kernel_id or '')}/interrupt"
        )
        if response.status_code not in (200, 204):
            raise GatewayError(client.refused(response, "interrupting the kernel"))

    async def shutdown(self) -> None:
        """Delete the kernel on the gateway and close everything; safe to call twice."""
        self._closed = True
        await self.detach()
        client, self._client = self._client, None
        if client is None:
            return
        try:
            if self.kernel_id is not None and self._exit_code not in (EXIT_GONE,):
                response = await client.request(
                    "DELETE", f"/api/kernels/{quote(self.kernel_id)}", timeout=HTTP_TIMEOUT_S
                )
                if response.status_code not in (204, 404):
                    log.warning("%s", client.refused(response, "deleting the kernel"))
        except GatewayError as exc:
            log.warning("kernel on host %s was not deleted: %s", self.host, exc)
        finally:
            await client.close()

    async def detach(self) -> None:
        """Stop listening, leaving the kernel running on the gateway."""
        task, self._channels = self._channels, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def exit_code(self) -> int | None:
        if self._exit_code is not None:
            return self._exit_code
        if self._client is None or self.kernel_id is None:
            return -1
        now = time.monotonic()
        if now - self._checked_at < CHECK_EVERY_S:
            return None
        self._checked_at = now
        try:
            gone = not await self.exists()
        except GatewayError as exc:
            since = self._unreachable_since = self._unreachable_since or now
            if now - since >= self._grace_s:
                lost = f"{exc}, for more than {self._grace_s:g} s; the kernel is lost"
                return self._died(EXIT_UNREACHABLE, lost)
            return None
        self._unreachable_since = None
        if gone:
            return self._died(
                EXIT_GONE,
                f"the kernel host {self.host!r} no longer has this kernel "
                "(it was shut down or culled there)",
            )
        return None

    # the channels

    def _send(
        self,
        channel: str,
        msg_type: str,
        content: dict[str, Any],
        buffers: Sequence[bytes] = (),
        metadata: dict[str, Any] | None = None,
    ) -> str:
        msg = self._session.msg(msg_type, content, metadata=metadata)
        msg["channel"] = channel
        self._outbox.put_nowait(wsframes.encode(msg, buffers))
        return str(msg["header"]["msg_id"])

    async def _keep_channels(self, ws: ClientConnection | None) -> None:
        """Carry messages both ways; reconnect (same session, so nothing is lost) if it drops."""
        delay = 0.2
        while self._exit_code is None and not self._closed:
            if ws is None:
                try:
                    ws = await self._connect()
                    delay = 0.2
                except GatewayError as exc:
                    log.debug("kernel on host %s: %s", self.host, exc)
                    await asyncio.sleep(delay)
                    delay = min(2 * delay, 2.0)
                    continue
            try:
                await self._pump(ws)
            except (OSError, WebSocketException) as exc:
                log.info("kernel on host %s: channels dropped (%s)", self.host, type(exc).__name__)
            finally:
                await ws.close()
                ws = None

    async def _pump(self, ws: ClientConnection) -> None:
        sender = asyncio.create_task(self._send_all(ws))
        try:
            async for frame in ws:
                self._on_frame(frame)
        finally:
            sender.cancel()
            await asyncio.gather(sender, return_exceptions=True)

    async def _send_all(self, ws: ClientConnection) -> None:
        while True:
            if self._unsent is None:
                self._unsent = await self._outbox.get()
            await ws.send(self._unsent)
            self._unsent = None

    def _on_frame(self, frame: str | bytes) -> None:
        buffers: tuple[bytes, ...] = ()
        try:
            if isinstance(frame, str):
                msg = json.loads(frame)
            else:
                msg, buffers = wsframes.decode(frame)
            channel, msg_type = str(msg["channel"]), str(msg["header"]["msg_type"])
        except (ValueError, KeyError, TypeError):
            log.warning("kernel on host %s: a frame that is not a Jupyter message", self.host)
            return
        parent = msg.get("parent_header") or {}
        content = msg.get("content") or {}
        waiting = self._control.get(parent.get("msg_id") or "")
        if waiting is not None and channel == "control":
            if not waiting.done():
                waiting.set_result(None)
            return
        if (
            channel == "iopub"
            and msg_type == "status"
            and not parent
            and content.get("execution_state") in ("restarting", "dead")
        ):
            self._died(
                EXIT_RESTARTED,
                f"the kernel process on host {self.host!r} died "
                "(the gateway restarted it blank; the hub starts a fresh one)",
            )
            return
        message = KernelMessage(channel, msg_type, parent.get("msg_id"), content, buffers)
        self._inbox.put(message)

    def _died(self, code: int, reason: str) -> int:
        if self._exit_code is None:
            self._exit_code, self.exit_reason = code, reason
            log.warning("kernel %s on host %s: %s", self.name, self.host, reason)
        return self._exit_code

    def _require_client(self) -> GatewayClient:
        if self._client is None:
            raise GatewayError(f"the kernel on host {self.host!r} is not running")
        return self._client


async def host_specs(host: KernelHost) -> list[dict[str, Any]]:
    client = GatewayClient(host)
    try:
        return await client.kernelspecs()
    finally:
        await client.close()


class _QuietGateways(logging.Filter):
    """httpx logs each request at INFO: the hub polls its gateways, so those are dropped."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(str(arg).startswith(url) for arg in args for url in self.urls)


_quiet = _QuietGateways()


def _quiet_request_logs(url: str) -> None:
    if not _quiet.urls:
        logging.getLogger("httpx").addFilter(_quiet)
    _quiet.urls.add(url)
