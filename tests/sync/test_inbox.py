"""The slim stand-ins for uvicorn's per-connection queue and event (`sync.wspeer`): order,
waking the reader, and the read-ahead bound that replaces uvicorn's pause after every frame.
Pure logic; a recording transport stands in for asyncio's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from collabd.sync.wspeer import READ_AHEAD_BYTES, READ_AHEAD_FRAMES, Gate, Inbox


class _Transport:
    def __init__(self) -> None:
        self.pauses = 0

    def pause_reading(self) -> None:
        self.pauses += 1


class _Proto:
    def __init__(self) -> None:
        self.transport = _Transport()
        self.read_paused = False


def _frame(data: bytes) -> dict[str, Any]:
    return {"type": "websocket.receive", "bytes": data}


async def test_frames_come_out_in_order_and_a_waiting_reader_wakes() -> None:
    inbox = Inbox([_frame(b"a")])
    assert (await inbox.get())["bytes"] == b"a"
    reader = asyncio.ensure_future(inbox.get())
    await asyncio.sleep(0)
    assert not reader.done()  # nothing there yet
    with pytest.raises(RuntimeError):  # one reader (the endpoint): a second is refused
        await inbox.get()
    inbox.put_nowait(_frame(b"b"))
    inbox.put_nowait(_frame(b"c"))
    assert (await asyncio.wait_for(reader, 5))["bytes"] == b"b"
    assert (await inbox.get())["bytes"] == b"c"
    assert inbox.empty() and inbox.qsize() == 0


async def test_reading_goes_on_until_the_read_ahead_bound() -> None:
    proto = _Proto()
    inbox = Inbox([], proto)
    for _ in range(READ_AHEAD_FRAMES - 1):
        inbox.put_nowait(_frame(b"x"))
        # uvicorn pauses after a frame unless it is told reading is paused already
        assert proto.read_paused
    assert proto.transport.pauses == 0
    inbox.put_nowait(_frame(b"x"))
    assert proto.transport.pauses == 1
    for _ in range(READ_AHEAD_FRAMES):
        await inbox.get()
    inbox.put_nowait(_frame(b"y" * READ_AHEAD_BYTES))  # one frame of the byte bound
    assert proto.transport.pauses == 2


async def test_gate_holds_a_sender_until_writable() -> None:
    gate = Gate(False)
    waiting = asyncio.ensure_future(gate.wait())
    await asyncio.sleep(0)
    assert not waiting.done()
    gate.set()
    assert await asyncio.wait_for(waiting, 5) is True
    gate.clear()
    assert not gate.is_set()


async def test_a_taker_gets_binary_frames_as_they_are_read_behind_what_is_queued() -> None:
    proto = _Proto()
    inbox = Inbox([_frame(b"early")], proto)  # read while the participant was being admitted
    taken: list[bytes] = []
    inbox.take_frames(lambda message: taken.append(message["bytes"]))
    inbox.put_nowait(_frame(b"behind"))  # something is queued: it waits its turn
    assert taken == [] and inbox.qsize() == 2
    assert (await inbox.get())["bytes"] == b"early"
    assert (await inbox.get())["bytes"] == b"behind"
    inbox.put_nowait(_frame(b"now"))  # nothing queued: taken in the read callback
    assert taken == [b"now"] and inbox.empty()
    assert proto.read_paused and proto.transport.pauses == 0  # uvicorn would pause otherwise
    inbox.put_nowait({"type": "websocket.receive", "text": "hi"})  # not binary: the reader's
    inbox.put_nowait({"type": "websocket.disconnect", "code": 1000})
    assert taken == [b"now"] and inbox.qsize() == 2
    inbox.take_frames(None)
    await inbox.get()
    await inbox.get()
    inbox.put_nowait(_frame(b"later"))  # the taker is gone: queued again
    assert taken == [b"now"] and inbox.qsize() == 1
