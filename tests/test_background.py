"""`bounded`: a stop that hangs says what it waits for, and does not hang the process."""

from __future__ import annotations

import asyncio
import logging

import pytest

from collabd.background import bounded


async def test_a_hung_stop_names_the_task_it_waits_for_and_gives_up(
    caplog: pytest.LogCaptureFixture,
) -> None:
    never = asyncio.Event()

    async def stuck_forever() -> None:
        await never.wait()

    stuck = asyncio.create_task(stuck_forever(), name="relay-reader")

    async def stop() -> None:
        await stuck

    with caplog.at_level(logging.WARNING, logger="collabd"):
        await bounded(stop(), "stopping the hub", report_s=0.05, limit_s=0.3)
    text = caplog.text
    assert "stopping the hub: not done after 0.05 s" in text
    assert "relay-reader: stuck_forever (test_background.py" in text
    assert "stopping the hub: gave up after 0.3 s" in text
    stuck.cancel()


async def test_a_quick_stop_logs_nothing(caplog: pytest.LogCaptureFixture) -> None:
    done: list[bool] = []

    async def stop() -> None:
        await asyncio.sleep(0)
        done.append(True)

    with caplog.at_level(logging.WARNING, logger="collabd"):
        await bounded(stop(), "stopping the hub", report_s=0.05, limit_s=1)
        await asyncio.sleep(0.1)  # past report_s: the report was called off
    assert done == [True]
    assert caplog.text == ""
