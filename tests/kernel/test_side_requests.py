"""Side requests (completion, inspection, the tracking capture after an error) get their reply
whichever of the two channels is read first, and nothing of theirs reaches a run."""

from __future__ import annotations

import asyncio

from collabd.kernel.base import Inbox, KernelMessage


def idle(parent: str) -> KernelMessage:
    return KernelMessage("iopub", "status", parent, {"execution_state": "idle"})


def reply(parent: str) -> KernelMessage:
    return KernelMessage("shell", "execute_reply", parent, {"status": "ok"})


async def asked(inbox: Inbox, msg_id: str) -> asyncio.Task[dict[str, object]]:
    task = asyncio.ensure_future(inbox.reply_to(msg_id, 5.0))
    await asyncio.sleep(0)  # registered, as right after sending
    return task


async def test_the_reply_is_taken_after_the_idle_too() -> None:
    inbox = Inbox()
    waiting = await asked(inbox, "m1")
    inbox.put(idle("m1"))  # a quick request: iopub read first
    inbox.put(reply("m1"))
    assert await waiting == {"status": "ok"}
    inbox.put(reply("other"))  # a run's messages still reach the run, in order
    inbox.put(idle("other"))
    assert await inbox.get(0.1) == reply("other")
    assert await inbox.get(0.1) == idle("other")
    assert await inbox.get(0.01) is None


async def test_the_reply_first_then_the_idle() -> None:
    inbox = Inbox()
    waiting = await asked(inbox, "m2")
    inbox.put(reply("m2"))
    assert await waiting == {"status": "ok"}
    inbox.put(idle("m2"))
    assert await inbox.get(0.01) is None  # swallowed: it was the side request's
    inbox.put(idle("m2"))
    assert await inbox.get(0.1) == idle("m2")  # done with it: nothing more is swallowed
