"""The hub's one thread for blocking store and file work, in submission order.

What `loop.run_in_executor` with a one-worker `ThreadPoolExecutor` does, with less on the way:
a flush of a room goes through here when its store cannot append on the loop (the log append
before the broadcast: `Store.append_now`), and the pool's per-call bookkeeping (its lock, work
item, `concurrent.futures.Future` chained to an asyncio one) cost about as much CPU as the
SQLite append itself (`bench/README.md`, round two). Here a call is a tuple on a `SimpleQueue`,
and its result comes back with one `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any, TypeVar

T = TypeVar("T")

_Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class IOThread:
    def __init__(self, name: str) -> None:
        self._calls: SimpleQueue[_Call | None] = SimpleQueue()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()
        self._closed = False

    def call(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        """`fn()` on the thread, after everything submitted before it."""
        if self._closed:
            raise RuntimeError("the I/O thread is shut down")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._calls.put((loop, future, fn))
        return future

    def shutdown(self) -> None:
        """Finish what was submitted, then stop the thread."""
        if not self._closed:
            self._closed = True
            self._calls.put(None)
            self._thread.join()

    def _serve(self) -> None:
        while (item := self._calls.get()) is not None:
            loop, future, fn = item
            try:
                result = fn()
            except BaseException as exc:  # handed to the caller, as an executor would
                _answer(loop, future, exc, failed=True)
            else:
                _answer(loop, future, result, failed=False)
            del item, future, fn  # not held while waiting for the next call


def _answer(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[Any], value: Any, *, failed: bool
) -> None:
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is waiting any more
        loop.call_soon_threadsafe(_settle, future, value, failed)


def _settle(future: asyncio.Future[Any], value: Any, failed: bool) -> None:
    if future.cancelled():  # its caller was cancelled; the work itself was done
        return
    if failed:
        future.set_exception(value)
    else:
        future.set_result(value)
