"""The kernel seam: what the execution layer needs of a kernel, wherever it runs.

Start, send code, receive messages from every channel through one inbox, answer input(),
interrupt, shut down, and say whether the process still lives. `collabd.kernel.local` does it with
jupyter_client beside the hub; a kernel on another machine plugs in here too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

DEFAULT_KERNEL = "python3"


class KernelStartError(RuntimeError):
    """The kernel could not be started (no such kernelspec, it crashed, it never answered)."""


@dataclass(frozen=True, slots=True)
class KernelMessage:
    channel: str  # "iopub", "shell" or "stdin"
    msg_type: str
    parent_id: str | None
    content: dict[str, Any]
    buffers: tuple[bytes, ...] = ()


@dataclass(frozen=True, slots=True)
class RunExtras:
    """What goes with a run's code: the protocol's `user_expressions` (evaluated after the
    code; the values come in the execute_reply) and the request's `metadata`."""

    user_expressions: dict[str, str] | None = None
    metadata: dict[str, Any] | None = None


NO_EXTRAS = RunExtras()


def execute_content(code: str, extras: RunExtras = NO_EXTRAS) -> dict[str, Any]:
    """A run's `execute_request` content: stdin allowed, errors do not abort later requests."""
    return {
        "code": code,
        "silent": False,
        "store_history": True,
        "user_expressions": extras.user_expressions or {},
        "allow_stdin": True,
        "stop_on_error": False,
    }


def silent_content(user_expressions: dict[str, str] | None) -> dict[str, Any]:
    """An empty, silent `execute_request` that only evaluates `user_expressions`: nothing is
    shown and the execution count does not move."""
    return {
        "code": "",
        "silent": True,
        "store_history": False,
        "user_expressions": user_expressions or {},
        "allow_stdin": False,
        "stop_on_error": False,
    }


@runtime_checkable
class SendsAtOnce(Protocol):
    """A kernel that can send code without awaiting anything (a local one: a ZeroMQ send),
    so that a run the idle kernel takes at once goes out with the request that asked for it."""

    def execute_now(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        """`execute`, done before returning: the msg id."""
        ...


class Kernel(Protocol):
    name: str

    async def start(self) -> None: ...

    async def execute(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        """Send code (stdin allowed, errors do not abort later requests) with `extras`; return
        the msg id."""
        ...

    async def receive(self, timeout: float) -> KernelMessage | None:
        """The next message from any channel, or None after `timeout` seconds."""
        ...

    def answer_input(self, value: str) -> None: ...

    async def send(
        self,
        msg_type: str,
        content: dict[str, Any],
        buffers: Sequence[bytes] = (),
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Send a shell message (a comm_msg, say) outside the run queue, with its binary
        `buffers` and message `metadata` (ipywidgets' control comm_open needs its version
        there); no reply is awaited. Return the msg id."""
        ...

    async def request(
        self, msg_type: str, content: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """Send a shell request outside the run queue (complete, inspect) and return its reply's
        content; TimeoutError when the kernel does not answer in time (it is busy running)."""
        ...

    async def interrupt(self) -> None: ...

    async def shutdown(self) -> None: ...

    async def exit_code(self) -> int | None:
        """None while the kernel process lives, else how it ended."""
        ...


KernelFactory = Callable[[str, Path], Kernel]

LOCAL_HOST = "local"


def host_of(kernel: Kernel) -> str:
    """Where a kernel runs: the name of its kernel host (`local` unless the kernel says)."""
    return str(getattr(kernel, "host", LOCAL_HOST))


def exit_text(kernel: Kernel, exit_code: int | None) -> str:
    """How a kernel ended, in words: its own `exit_reason` if it has one, else the code."""
    reason = getattr(kernel, "exit_reason", None)
    return str(reason) if reason else f"exit code {exit_code}"


class Inbox:
    """A kernel's messages from every channel in arrival order, for the run being carried out;
    the replies to requests sent beside the runs (completion, inspection) go to whoever asked,
    and their status messages never reach a run."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[KernelMessage] = asyncio.Queue()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._side: set[str] = set()  # side requests still to be seen idle on iopub

    def put(self, message: KernelMessage) -> None:
        if not self._take_side(message):
            self._queue.put_nowait(message)

    async def get(self, timeout: float) -> KernelMessage | None:
        """The next message, or None after `timeout` seconds."""
        if not self._queue.empty():  # no timer needed while a flood keeps the inbox full
            return self._queue.get_nowait()
        try:  # asyncio.timeout: wait_for (3.11) can swallow a cancel as a message arrives
            async with asyncio.timeout(timeout):
                return await self._queue.get()
        except TimeoutError:
            return None

    async def reply_to(self, msg_id: str, timeout: float) -> dict[str, Any]:
        """The content of the shell reply to side request `msg_id` (sent just now, with no
        await in between); TimeoutError if it does not come in time."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[msg_id] = future
        self._side.add(msg_id)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            self._waiting.pop(msg_id, None)

    def _take_side(self, message: KernelMessage) -> bool:
        """True if the message belongs to a side request (and was handled here). The channels
        are read apart: a quick request's idle (iopub) may be taken before its reply (shell),
        so the reply is matched by who waits for it, not by the idle still to come."""
        if message.parent_id is None:
            return False
        if message.channel == "shell":
            future = self._waiting.pop(message.parent_id, None)
            if future is None:
                return message.parent_id in self._side
            if not future.done():
                future.set_result(message.content)
            return True
        if message.parent_id not in self._side:
            return False
        if message.msg_type == "status" and message.content.get("execution_state") == "idle":
            self._side.discard(message.parent_id)
        return True
