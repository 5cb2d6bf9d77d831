"""Recording reads that rebuild a document run in a worker process, with its own store.

pycrdt holds the GIL while it applies an update, so a read that rebuilds a recorded document on
a thread (a 3.7 MB state takes ~200 ms to apply) stops the event loop, and every room of the
hub, for as long. `Rebuilds` runs those reads (`reader.notebook_at`, `diff.between`, the chat at
a moment) in one worker process instead: `python -m collabd.recording.offload`, started when a
recording is first opened, which opens the store itself (`Store.reopener`), keeps its own seek
cache and exits once idle for `idle_exit_s` or when the hub goes (its stdin closes). A worker
that died (killed, out of memory) is replaced and the read tried once more. A store that cannot
be opened in another process (the memory store) is read on a thread, as before.

The hub and its worker exchange pickles over the worker's stdin and stdout, each behind its
length: the hub's store's reopener first, then (function, arguments) per read, answered by
(True, result) or (False, exception). A call names the hub's store among its arguments; the
worker puts its own in that place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from typing import IO, Any, TypeVar

from collabd.store import Store

log = logging.getLogger("collabd.recording")

T = TypeVar("T")

IDLE_EXIT_S = 300.0  # a worker holds ~60 MB and its seek cache: it goes when nobody reads
STOP_GRACE_S = 5.0  # for a read under way to end when the hub stops, before the worker is killed
_LENGTH = struct.Struct("!Q")


class WorkerGone(RuntimeError):
    """The worker process ended before it answered."""


class _TheStore:
    """Stands for the worker's store among a call's arguments (the hub's cannot be pickled)."""


class Rebuilds:
    """Runs `fn(*args)` in the worker process, where `store` (given among `args`) is reopened."""

    def __init__(self, store: Store, *, idle_exit_s: float = IDLE_EXIT_S) -> None:
        self._store = store
        self._reopen = store.reopener()
        self._idle_exit_s = idle_exit_s
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()  # one read at a time: a request, then its answer
        self._idle_timer: asyncio.TimerHandle | None = None
        self._warming: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def in_process(self) -> bool:
        """Reads go to a worker process (else to a thread)."""
        return self._reopen is not None and not self._closed

    @property
    def pid(self) -> int | None:
        """The worker's process id while one runs."""
        proc = self._proc
        return proc.pid if proc is not None and proc.returncode is None else None

    def warm(self) -> None:
        """Start the worker now if none runs: a read soon after need not wait for a new
        interpreter to start and import the store (~0.1 s here, and pycrdt on first use)."""
        if self.in_process and self.pid is None and self._warming is None:
            self._warming = asyncio.get_running_loop().create_task(self._warm())

    async def _warm(self) -> None:
        try:
            async with self._lock:
                await self._running()
                self._idle_soon()
        except Exception:  # the read that needs it will start it again and say why
            if not self._closed:
                log.exception("starting the recording reader process failed")
        finally:
            self._warming = None

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if not self.in_process:
            return await asyncio.to_thread(fn, *args, **kwargs)
        if self._store.unpersisted():  # the worker reads the file: it must hold them
            await asyncio.to_thread(self._store.persist)
        sent = tuple(_TheStore() if a is self._store else a for a in args)
        data = pickle.dumps((fn, sent, kwargs))
        # A reader that goes away (a closed tab) leaves the exchange to finish: the answer must
        # be read off the pipe before the next request's.
        exchange = asyncio.ensure_future(self._exchange(data))
        exchange.add_done_callback(_retrieve)
        ok, value = await asyncio.shield(exchange)
        if not ok:
            raise value
        result: T = value
        return result

    async def _exchange(self, data: bytes) -> tuple[bool, Any]:
        async with self._lock:
            try:
                try:
                    return await self._ask_running(data)
                except WorkerGone:
                    if self._closed:
                        raise
                    log.warning("the recording reader process died; starting another")
                return await self._ask_running(data)
            finally:
                self._idle_soon()

    async def _ask_running(self, data: bytes) -> tuple[bool, Any]:
        proc = await self._running()
        try:
            return await _ask(proc, data)
        except WorkerGone:
            self._proc = None
            raise

    async def _running(self) -> asyncio.subprocess.Process:
        if self._closed:
            raise WorkerGone("the hub is stopping")
        proc = self._proc
        if proc is None or proc.returncode is not None:
            proc = await self._start()
            if self._closed:  # the hub stopped while it started: it must not outlive the hub
                _end(proc)
                await proc.wait()
                raise WorkerGone("the hub is stopping")
            self._proc = proc
        return proc

    async def _start(self) -> asyncio.subprocess.Process:
        env = dict(os.environ)  # the worker imports what this process does, from where it does
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            __name__,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None
        proc.stdin.write(_frame(pickle.dumps(self._reopen)))
        return proc

    def _idle_soon(self) -> None:
        if self._idle_timer is not None:
            self._idle_timer.cancel()
        loop = asyncio.get_running_loop()
        self._idle_timer = loop.call_later(self._idle_exit_s, self._exit_if_idle)

    def _exit_if_idle(self) -> None:
        self._idle_timer = None
        if not self._lock.locked() and self._proc is not None:
            proc, self._proc = self._proc, None
            _end(proc)

    async def close(self) -> None:
        """Stop the worker (after the read under way, if it ends soon); later reads run on a
        thread."""
        self._closed = True
        if self._idle_timer is not None:
            self._idle_timer.cancel()
            self._idle_timer = None
        proc, self._proc = self._proc, None
        if proc is None:
            return
        _end(proc)
        try:
            await asyncio.wait_for(proc.wait(), STOP_GRACE_S)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # read, so that a reader gone meanwhile leaves no warning behind


def _end(proc: asyncio.subprocess.Process) -> None:
    """Close the worker's stdin: it exits once it has answered what it was asked."""
    if proc.stdin is not None and not proc.stdin.is_closing():
        proc.stdin.close()


def _frame(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


async def _ask(proc: asyncio.subprocess.Process, data: bytes) -> tuple[bool, Any]:
    assert proc.stdin is not None and proc.stdout is not None
    try:
        proc.stdin.write(_frame(data))
        await proc.stdin.drain()
        header = await proc.stdout.readexactly(_LENGTH.size)
        answer = await proc.stdout.readexactly(_LENGTH.unpack(header)[0])
    except (asyncio.IncompleteReadError, ConnectionError) as exc:
        raise WorkerGone("the recording reader process ended before it answered") from exc
    result: tuple[bool, Any] = pickle.loads(answer)
    return result


# the worker process


def _read(stream: IO[bytes]) -> Any:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        return None  # the hub closed our stdin (or went away): time to go
    return pickle.loads(stream.read(_LENGTH.unpack(header)[0]))


def _answer(
    fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], store: Store
) -> bytes:
    try:
        answer: tuple[bool, Any] = (
            True,
            fn(*(store if isinstance(a, _TheStore) else a for a in args), **kwargs),
        )
    except Exception as exc:
        answer = (False, exc)
    try:
        return pickle.dumps(answer)
    except Exception as exc:  # an answer or an error that does not pickle
        return pickle.dumps((False, RuntimeError(f"the reader's answer cannot be sent: {exc!r}")))


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the hub's to handle: it closes us
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # our stdout carries answers only
    reopen = _read(source)
    if reopen is None:
        return
    store: Store = reopen()
    try:
        while (asked := _read(source)) is not None:
            fn, args, kwargs = asked
            sink.write(_frame(_answer(fn, args, kwargs, store)))
            sink.flush()
    finally:
        with contextlib.suppress(Exception):
            store.close()


if __name__ == "__main__":  # run as a module: the module's own `_TheStore`, not __main__'s
    from collabd.recording.offload import main as worker_main

    worker_main()
