"""The hub's I/O thread: calls run in order, off the event loop, and their results, errors
and cancellations come back as an executor's would."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from collabd.iothread import IOThread


async def test_calls_run_in_submission_order_off_the_loop() -> None:
    io = IOThread("test-io")
    seen: list[tuple[int, str]] = []

    def work(i: int) -> int:
        time.sleep(0.001 * (5 - i))  # later calls are quicker: order still holds
        seen.append((i, threading.current_thread().name))
        return i * 10

    try:
        results = await asyncio.gather(*(io.call(lambda i=i: work(i)) for i in range(5)))
    finally:
        io.shutdown()
    assert results == [0, 10, 20, 30, 40]
    assert seen == [(i, "test-io") for i in range(5)]


async def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    io = IOThread("test-io")

    def fail() -> None:
        raise ValueError("disk full")

    try:
        with pytest.raises(ValueError, match="disk full"):
            await io.call(fail)
        assert await io.call(lambda: "still here") == "still here"
    finally:
        io.shutdown()


async def test_a_cancelled_caller_does_not_stop_the_work_or_the_next_call() -> None:
    io = IOThread("test-io")
    started, release, done = threading.Event(), threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        release.wait(5)
        done.set()

    try:
        waiting = asyncio.ensure_future(io.call(slow))
        await asyncio.to_thread(started.wait, 5)
        waiting.cancel()
        release.set()
        assert await io.call(lambda: 1) == 1  # after `slow`, which was done all the same
        assert done.is_set() and waiting.cancelled()
    finally:
        io.shutdown()


async def test_shutdown_finishes_what_was_submitted_and_refuses_more() -> None:
    io = IOThread("test-io")
    ran: list[int] = []
    pending = [io.call(lambda i=i: ran.append(i)) for i in range(3)]
    io.shutdown()
    assert ran == [0, 1, 2]
    await asyncio.gather(*pending)
    with pytest.raises(RuntimeError):
        io.call(lambda: None)
