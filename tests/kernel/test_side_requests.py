"""Side requests (completion, inspection, the tracking capture after an error) get their reply
whichever of the two channels is read first."""

from __future__ import annotations

from collabd.kernel.base import KernelMessage, SideRequests


def idle(parent: str) -> KernelMessage:
    return KernelMessage("iopub", "status", parent, {"execution_state": "idle"})


def reply(parent: str) -> KernelMessage:
    return KernelMessage("shell", "execute_reply", parent, {"status": "ok"})


async def test_the_reply_is_taken_after_the_idle_too() -> None:
    side = SideRequests()
    future = side.expect("m1")
    assert side.take(idle("m1"))  # a quick request: iopub read first
    assert side.take(reply("m1"))
    assert future.done() and future.result() == {"status": "ok"}
    assert not side.take(reply("other")) and not side.take(idle("other"))


async def test_the_reply_first_then_the_idle() -> None:
    side = SideRequests()
    future = side.expect("m2")
    assert side.take(reply("m2")) and future.result() == {"status": "ok"}
    assert side.take(idle("m2"))
    assert not side.take(idle("m2"))  # done with it: nothing more is swallowed
