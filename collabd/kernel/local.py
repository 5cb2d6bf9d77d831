"""A kernel beside the hub: `collabd.kernel.base.Kernel` over jupyter_client's async manager.

The only module that imports jupyter_client's kernel manager; a fake can stand in for it in unit
tests (integration tests use a real ipykernel).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import re
import shutil
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager

from collabd.kernel.base import (
    NO_EXTRAS,
    Inbox,
    KernelMessage,
    KernelStartError,
    RunExtras,
    execute_content,
)
from collabd.kernel.confine import CONNECTION_FILE, SOCKET_PREFIX, Confinement
from collabd.kernel.prelude import with_prelude

log = logging.getLogger("collabd.kernel.local")

READY_TIMEOUT_S = 60.0
SHUTDOWN_WAIT_S = 3.0
# Kernels run user code that may take a whole core (a flood of output, a tight loop); a lower
# priority keeps the hub, which serves every participant of every session, responsive.
KERNEL_NICENESS = 5


# Variables a kernel never gets: it runs any participant's code. The hub's own settings (the admin
# token among them) and whatever looks like a credential of the user who started the hub.
_HUB_PREFIX = "COLLABD_"
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH", re.I)


def kernel_env(
    environ: Mapping[str, str] | None = None, *, secrets: Collection[str] = ()
) -> dict[str, str]:
    """The environment a kernel starts with: the hub's, without its settings, anything named
    like a secret, and any variable holding one of `secrets` (the admin token) by another name."""
    environ = os.environ if environ is None else environ
    return {
        name: value
        for name, value in environ.items()
        if not name.upper().startswith(_HUB_PREFIX)
        and not _SECRET_NAME.search(name)
        and not any(secret and secret in value for secret in secrets)
    }


def kernel_names() -> list[str]:
    return sorted(KernelSpecManager().find_kernel_specs())


class _ConfinedManager(AsyncKernelManager):
    """jupyter_client's manager, with the kernel's command wrapped by its `Confinement`."""

    confinement = Confinement()
    sockets: Path | None = None
    kernel_cwd = Path()

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = with_prelude(super().format_kernel_cmd(extra_arguments))
        if self.sockets is not None:  # the connection file is written by now
            self.confinement.hand_over(self.sockets)
        return self.confinement.command(cmd, self.kernel_cwd, self.sockets)


class JupyterKernel:
    """A local kernel process started from a kernelspec, working in `cwd`, with `kernel_env`,
    confined as `confinement` says (default: IPC sockets in a private folder)."""

    def __init__(
        self,
        name: str,
        cwd: Path,
        *,
        secrets: Collection[str] = (),
        confinement: Confinement | None = None,
    ) -> None:
        self.name = name
        self.cwd = cwd
        self._secrets = tuple(secrets)
        self._confinement = confinement or Confinement()
        self._km: AsyncKernelManager | None = None
        self._kc: Any = None
        self._inbox = Inbox()
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        km = self._manager()
        self._km = km  # set first: a start cancelled half way is still shut down
        confinement = self._confinement
        env = confinement.environment(kernel_env(secrets=self._secrets))
        try:
            if not confinement.signals_reach_kernel:
                km.kernel_spec.interrupt_mode = "message"  # type: ignore[union-attr]
            await km.start_kernel(cwd=str(self.cwd), env=env, **confinement.launch_options())
        except NoSuchKernel:
            self._km = None
            if km.sockets is not None:
                shutil.rmtree(km.sockets, ignore_errors=True)
            raise KernelStartError(
                f"no kernelspec named {self.name!r} (installed: {', '.join(kernel_names())})"
            ) from None
        except Exception as exc:
            raise KernelStartError(f"kernel {self.name!r} failed to start: {exc}") from exc
        _lower_priority(km)
        kc = km.client()
        # No receive limit on the hub's side: with zmq's default (1000 messages queued) a kernel
        # flooding iopub (a loop moving a slider) while the hub is busy has the rest of its
        # messages dropped, its final `idle` among them, and the run would never end.
        kc.context.setsockopt(zmq.RCVHWM, 0)
        try:
            kc.start_channels()
        finally:
            kc.context.sockopts.pop(zmq.RCVHWM, None)  # only this client's sockets
        self._kc = kc
        try:
            await kc.wait_for_ready(timeout=READY_TIMEOUT_S)
        except Exception as exc:
            await self.shutdown()
            raise KernelStartError(f"kernel {self.name!r} did not become ready: {exc}") from exc
        self._inbox = Inbox()
        self._readers = [
            asyncio.create_task(self._read(channel), name=f"kernel-{channel}")
            for channel in ("iopub", "shell", "stdin")
        ]

    def _manager(self) -> _ConfinedManager:
        confinement = self._confinement
        km = _ConfinedManager(kernel_name=self.name, transport=confinement.transport)
        km.shutdown_wait_time = SHUTDOWN_WAIT_S
        km.confinement = confinement
        km.kernel_cwd = self.cwd
        km.sockets = confinement.socket_dir()
        if km.sockets is not None:
            km.connection_file = str(km.sockets / CONNECTION_FILE)
            km.ip = str(km.sockets / SOCKET_PREFIX)
        elif km.has_trait("transport_encryption"):  # jupyter_client 8.10+
            km.transport_encryption = "auto"  # TCP: CurveZMQ when the kernelspec supports it
        return km

    async def execute(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        return self.execute_now(code, extras)

    def execute_now(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        # the message made here, not by the client's `execute`, which has no metadata
        kc = self._client()
        content = execute_content(code, extras)
        msg = kc.session.msg("execute_request", content, metadata=extras.metadata)
        kc.shell_channel.send(msg)
        return str(msg["header"]["msg_id"])

    async def request(
        self, msg_type: str, content: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        kc = self._client()
        msg = kc.session.msg(msg_type, content)
        kc.shell_channel.send(msg)
        return await self._inbox.reply_to(msg["header"]["msg_id"], timeout)

    async def receive(self, timeout: float) -> KernelMessage | None:
        return await self._inbox.get(timeout)

    def answer_input(self, value: str) -> None:
        self._client().input(value)

    async def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        buffers: Sequence[bytes] = (),
        metadata: dict[str, Any] | None = None,
    ) -> str:
        kc = self._client()
        msg = kc.session.msg(msg_type, content, metadata=metadata)
        kc.session.send(kc.shell_channel.socket, msg, buffers=list(buffers))
        return str(msg["header"]["msg_id"])

    async def interrupt(self) -> None:
        if self._km is not None:
            await self._km.interrupt_kernel()

    async def shutdown(self) -> None:
        """Stop the kernel for good; safe to call twice or on a dead kernel."""
        readers, self._readers = self._readers, []
        for task in readers:
            task.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
        kc, self._kc = self._kc, None
        if kc is not None:
            kc.stop_channels()
        km, self._km = self._km, None
        if km is not None and km.has_kernel:
            alive = await km.is_alive()
            try:
                await km.shutdown_kernel(now=not alive)
            except Exception:
                log.exception("kernel %s: shutdown failed; killing it", self.name)
                with contextlib.suppress(Exception):
                    await km.shutdown_kernel(now=True)
        sockets = getattr(km, "sockets", None)
        if sockets is not None:
            shutil.rmtree(sockets, ignore_errors=True)

    async def exit_code(self) -> int | None:
        km = self._km
        if km is None or km.provisioner is None:
            return -1
        code = await km.provisioner.poll()
        return None if code is None else int(code)

    def _client(self) -> Any:
        if self._kc is None:
            raise RuntimeError("the kernel is not running")
        return self._kc

    async def _read(self, channel: str) -> None:
        get = getattr(self._client(), f"get_{channel}_msg")
        while True:
            try:
                msg = await get(timeout=1.0)
            except queue.Empty:
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("kernel %s: reading %s failed", self.name, channel)
                await asyncio.sleep(0.5)
                continue
            parent = msg.get("parent_header") or {}
            buffers = tuple(bytes(b) for b in msg.get("buffers") or ())
            message = KernelMessage(
                channel, msg["msg_type"], parent.get("msg_id"), msg["content"], buffers
            )
            self._inbox.put(message)


def _lower_priority(km: AsyncKernelManager) -> None:
    pid = getattr(km.provisioner, "pid", None)
    if isinstance(pid, int):
        with contextlib.suppress(OSError):
            os.setpriority(os.PRIO_PROCESS, pid, KERNEL_NICENESS)
