"""The session kernel's orchestration with a fake kernel standing in (unit tests only; the
behaviour against a real ipykernel is in test_execution.py and test_kernel_*.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc

from collabd import notebook
from collabd.kernel import cellrun
from collabd.kernel.base import NO_EXTRAS, KernelMessage, RunExtras
from collabd.kernel.execution import SessionKernel
from collabd.kernel.queue import RunRequest
from collabd.settings import Settings
from collabd.store.memory import MemoryStore
from collabd.sync.liveroom import LiveRoom

Script = Callable[["FakeKernel", str], list[KernelMessage]]


class FakeKernel:
    """Answers each execute with the messages `script` makes for the code."""

    def __init__(self, script: Script) -> None:
        self.name = "fake"
        self.script = script
        self.inbox: asyncio.Queue[KernelMessage] = asyncio.Queue()
        self.dead: int | None = None
        self.started = self.shut_down = 0
        self._count = 0

    async def start(self) -> None:
        self.started += 1

    async def execute(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        return self._answer(code)

    def _answer(self, code: str) -> str:
        self._count += 1
        msg_id = f"m{self._count}"
        for message in self.script(self, code):
            self.inbox.put_nowait(
                KernelMessage(message.channel, message.msg_type, msg_id, message.content)
            )
        return msg_id

    async def receive(self, timeout: float) -> KernelMessage | None:
        # the queue's get awaited by this task itself, as the real inbox does: a read that the
        # idle worker cancels then loses no message (wait_for's inner task could take one)
        try:
            async with asyncio.timeout(timeout):
                return await self.inbox.get()
        except TimeoutError:
            return None

    def answer_input(self, value: str) -> None:
        raise AssertionError("not used")

    async def interrupt(self) -> None:
        pass

    async def shutdown(self) -> None:
        self.shut_down += 1

    async def exit_code(self) -> int | None:
        return self.dead


class FakeSendingKernel(FakeKernel):
    """Can also send code without awaiting, as a local kernel does (`SendsAtOnce`)."""

    def __init__(self, script: Script) -> None:
        super().__init__(script)
        self.sent_now: list[str] = []  # what went through execute_now
        self.fail: Exception | None = None

    def execute_now(self, code: str, extras: RunExtras = NO_EXTRAS) -> str:
        if self.fail is not None:
            raise self.fail
        self.sent_now.append(code)
        return self._answer(code)


def msg(channel: str, msg_type: str, **content: Any) -> KernelMessage:
    return KernelMessage(channel, msg_type, None, content)


def stdout(text: str) -> KernelMessage:
    return msg("iopub", "stream", name="stdout", text=text)


def done(count: int) -> list[KernelMessage]:
    return [
        msg("iopub", "status", execution_state="idle"),
        msg("shell", "execute_reply", status="ok", execution_count=count),
    ]


def script(kernel: FakeKernel, code: str) -> list[KernelMessage]:
    if code == "flood":
        chunks = [msg("iopub", "stream", name="stdout", text=f"{i}\n") for i in range(10_000)]
        return [msg("iopub", "execute_input", execution_count=1), *chunks, *done(1)]
    if code == "die":
        kernel.dead = 1
        return []
    if code == "hold":  # its first output, then nothing until the test sends the rest
        return [msg("iopub", "execute_input", execution_count=4), stdout("first")]
    if code == "noidle":  # the idle status lost on the way (ZMQ drops past its buffers)
        return [msg("iopub", "stream", name="stdout", text="x"), done(3)[1]]
    return [msg("iopub", "stream", name="stdout", text=code), *done(2)]


async def make_session(
    tmp_path: Path,
    kernels: list[FakeKernel],
    kernel_type: type[FakeKernel] = FakeKernel,
    **settings_: Any,
) -> tuple[LiveRoom, SessionKernel]:
    async def run_io(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    doc: Doc[Any] = Doc()
    nb = notebook.empty_notebook()
    nb["cells"] = [
        {
            "id": c,
            "cell_type": "code",
            "source": c,
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for c in ("flood", "die", "noidle", "after", "hold")
    ]
    notebook.load_into(doc, nb)
    flush = settings_.pop("stream_flush_s", 0.1)
    settings = Settings(token="t", root=tmp_path, data=tmp_path, stream_flush_s=flush, **settings_)
    live = LiveRoom("s", doc, store=MemoryStore(), settings=settings, run_io=run_io, last_seq=0)
    live.start()

    def factory(name: str, cwd: Path) -> FakeKernel:
        kernel = kernel_type(script)
        kernels.append(kernel)
        return kernel

    session = SessionKernel(live, cwd=tmp_path, factory=factory)
    session.start()
    return live, session


async def wait_until(predicate: Callable[[], Any], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def cell(live: LiveRoom, cell_id: str) -> dict[str, Any]:
    found = notebook.find_cell(live.doc, cell_id)
    assert found is not None
    result = found[1].to_py()
    assert isinstance(result, dict)
    return result


def ended(live: LiveRoom, cell_id: str) -> bool:
    c = cell(live, cell_id)
    return bool(c["metadata"].get("collabd", {}).get("last_run")) and c["execution_state"] == "idle"


async def test_a_flood_of_chunks_becomes_a_few_transactions(tmp_path: Path) -> None:
    kernels: list[FakeKernel] = []
    # a flush interval longer than the run: how many writes there are cannot depend on how
    # fast this machine is, only on whether chunks are coalesced
    live, session = await make_session(tmp_path, kernels, stream_flush_s=60.0)
    changes: list[str] = []
    original = live.change
    live.change = lambda origin, edit: (changes.append(origin), original(origin, edit))[1]  # type: ignore[method-assign]
    session.submit(["flood"], {"name": "ann", "client_id": 1})
    await wait_until(lambda: ended(live, "flood"))
    outputs = cell(live, "flood")["outputs"]
    assert [o["text"] for o in outputs] == ["".join(f"{i}\n" for i in range(10_000))]
    assert len(changes) < 15  # not one per chunk
    await session.close("done")
    await live.close()
    assert kernels[0].shut_down == 1


async def test_a_run_whose_idle_status_was_lost_ends_and_the_queue_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cellrun, "IDLE_GRACE_S", 0.2)
    kernels: list[FakeKernel] = []
    live, session = await make_session(tmp_path, kernels)
    session.submit(["noidle", "after"], {"name": "ann", "client_id": 1})
    await wait_until(lambda: ended(live, "after"))
    noidle = cell(live, "noidle")
    assert noidle["metadata"]["collabd"]["last_run"]["status"] == "ok"
    assert [o["text"] for o in noidle["outputs"]] == ["x"]
    await session.close("done")
    await live.close()


async def test_death_reports_cancels_and_restarts(tmp_path: Path) -> None:
    kernels: list[FakeKernel] = []
    live, session = await make_session(tmp_path, kernels)
    session.submit(["die"], {"name": "ann", "client_id": 1})
    session.submit(["after"], {"name": "ben", "client_id": 2})
    await wait_until(lambda: ended(live, "die") and ended(live, "after"))
    assert cell(live, "die")["outputs"][-1]["ename"] == "KernelDied"
    assert cell(live, "after")["metadata"]["collabd"]["last_run"]["status"] == "cancelled"
    await wait_until(lambda: len(kernels) == 2 and session.status == "idle")
    assert kernels[0].shut_down == 1  # the dead one was cleaned up
    state = notebook.state(live.doc).to_py() or {}
    assert state["last_event"]["kind"] == "kernel_died" and state["queue"] == []
    session.submit(["after"], {"name": "ben", "client_id": 2})
    await wait_until(lambda: cell(live, "after")["outputs"])
    assert cell(live, "after")["outputs"][0]["text"] == "after"
    await session.close("done")
    await live.close()


async def test_submit_checks_cells(tmp_path: Path) -> None:
    from collabd.kernel.execution import ExecutionError

    live, session = await make_session(tmp_path, [])
    with pytest.raises(ExecutionError) as err:
        session.submit(["flood", "nope"], {"name": "ann", "client_id": None})
    assert err.value.code == "unknown_cell" and len(session.queue) == 0
    await session.close("done")
    await live.close()


async def test_without_restart_on_death_the_next_run_starts_a_kernel(tmp_path: Path) -> None:
    kernels: list[FakeKernel] = []
    live, session = await make_session(tmp_path, kernels, kernel_restart_on_death=False)
    session.submit(["die"], {"name": "ann", "client_id": 1})
    await wait_until(lambda: ended(live, "die") and session.status == "dead")
    kernel = (notebook.state(live.doc).to_py() or {})["kernel"]
    assert kernel["status"] == "dead" and "died" in kernel["reason"] and len(kernels) == 1
    assert not session.busy  # nothing keeps the room loaded for a dead kernel
    session.submit(["after"], {"name": "ann", "client_id": 1})
    await wait_until(lambda: ended(live, "after"))
    assert len(kernels) == 2 and cell(live, "after")["outputs"][0]["text"] == "after"
    await session.close("done")
    await live.close()


async def test_a_run_stopped_before_its_first_step_still_ends(tmp_path: Path) -> None:
    kernels: list[FakeKernel] = []
    live, session = await make_session(tmp_path, kernels)
    request = RunRequest("r1", "after", "after", {"name": "ann"}, 0.0, None)
    session.queue.add([request])  # not woken: the worker leaves it to us
    assert session.queue.next() is request
    runner = session._runner
    running = asyncio.create_task(runner.run(request))
    await asyncio.sleep(0)  # run() has created its task, which has not started yet
    await runner.stop("the kernel was restarted")
    await running
    assert session.queue.running is None and len(session.queue) == 0
    await wait_until(lambda: ended(live, "after"))
    last = cell(live, "after")["metadata"]["collabd"]["last_run"]
    assert last["status"] == "cancelled"
    await session.close("test over")
    await live.close()


def kernel_status(live: LiveRoom) -> Any:
    return notebook.state(live.doc).get("kernel", {}).get("status")


async def test_a_cell_that_ends_within_one_flush_writes_only_its_outputs_and_end(
    tmp_path: Path,
) -> None:
    # a flush interval longer than the run: it starts and ends in one update
    live, session = await make_session(tmp_path, [], stream_flush_s=60.0)
    session.submit(["after"], {"name": "ann", "client_id": 1})  # starts the kernel
    await wait_until(lambda: ended(live, "after"))
    await live.flush()
    changed: list[str] = []
    shared = notebook.state(live.doc)
    sub = shared.observe(lambda event: changed.extend(event.keys))
    before = cell(live, "after")["metadata"]["collabd"]["last_run"]["ended"]
    session.submit(["after"], {"name": "ann", "client_id": 1})
    await wait_until(
        lambda: (
            ended(live, "after")
            and cell(live, "after")["metadata"]["collabd"]["last_run"]["ended"] != before
        )
    )
    shared.unobserve(sub)
    # busy and idle, the run in flight: written and undone in one update, so not written
    assert "kernel" not in changed and "kernel_choice" not in changed
    assert [o["text"] for o in cell(live, "after")["outputs"]] == ["after"]
    assert kernel_status(live) == "idle"
    await session.close("done")
    await live.close()


async def test_a_runs_first_output_is_written_at_once_and_its_start_only_if_it_lasts(
    tmp_path: Path,
) -> None:
    kernels: list[FakeKernel] = []
    live, session = await make_session(tmp_path, kernels, stream_flush_s=60.0)
    session.submit(["after"], {"name": "ann", "client_id": 1})  # starts the kernel
    await wait_until(lambda: ended(live, "after") and session._idle_waiting())
    await live.flush()
    changed: list[str] = []
    shared = notebook.state(live.doc)
    sub = shared.observe(lambda event: changed.extend(event.keys))
    session.submit(["hold"], {"name": "ann", "client_id": 1})
    # long before the flush interval: the output is in the document while the run goes on
    await wait_until(lambda: [o.get("text") for o in cell(live, "hold")["outputs"]] == ["first"])
    assert session.queue.running is not None and not ended(live, "hold")
    assert cell(live, "hold")["execution_count"] == 4
    kernel, msg_id = kernels[0], f"m{kernels[0]._count}"
    for message in [stdout("second"), *done(4)]:
        kernel.inbox.put_nowait(
            KernelMessage(message.channel, message.msg_type, msg_id, message.content)
        )
    await wait_until(lambda: ended(live, "hold"))
    await live.flush()
    shared.unobserve(sub)
    assert "".join(o["text"] for o in cell(live, "hold")["outputs"]) == "firstsecond"
    # ended within the interval: its start (busy, in flight, running) was never written
    assert "kernel" not in changed and "kernel_choice" not in changed
    assert kernel_status(live) == "idle" and last_run(live, "hold")["status"] == "ok"
    await session.close("done")
    await live.close()


async def test_quick_cells_queued_behind_each_other_leave_the_kernel_idle(tmp_path: Path) -> None:
    live, session = await make_session(tmp_path, [], stream_flush_s=60.0)
    session.submit(["after", "after", "after"], {"name": "ann", "client_id": 1})
    await wait_until(lambda: not session.queue.has_queued() and ended(live, "after"))
    await wait_until(lambda: kernel_status(live) == "idle")
    await live.flush()
    assert kernel_status(live) == "idle" and notebook.state(live.doc).get("queue") == []
    await session.close("done")
    await live.close()


def last_run(live: LiveRoom, cell_id: str) -> dict[str, Any]:
    result: dict[str, Any] = cell(live, cell_id)["metadata"]["collabd"]["last_run"]
    return result


BOB = {"name": "bob", "client_id": 2}


async def idle_session(tmp_path: Path) -> tuple[LiveRoom, SessionKernel, FakeSendingKernel]:
    """A session whose kernel ran once and whose worker now waits for work."""
    kernels: list[FakeKernel] = []
    live, session = await make_session(tmp_path, kernels, FakeSendingKernel)
    session.submit(["after"], {"name": "ann", "client_id": 1})  # starts the kernel: not at once
    await wait_until(lambda: ended(live, "after") and session._idle_waiting())
    kernel = kernels[0]
    assert isinstance(kernel, FakeSendingKernel) and kernel.sent_now == []
    return live, session, kernel


async def sent_at_once(tmp_path: Path) -> tuple[LiveRoom, SessionKernel, float]:
    """An idle session and a run of its cell just sent at once, before `submit` returned (the
    worker not yet woken); and when the run before it ended."""
    live, session, kernel = await idle_session(tmp_path)
    before = last_run(live, "after")["ended"]
    session.submit(["after"], BOB)
    assert kernel.sent_now == ["after"]
    return live, session, before


async def ended_after(live: LiveRoom, before: float) -> dict[str, Any]:
    """The cell's last run, once one ended after the run that ended at `before`."""
    await wait_until(lambda: ended(live, "after") and last_run(live, "after")["ended"] != before)
    return last_run(live, "after")


async def run_once_idle(live: LiveRoom, session: SessionKernel) -> dict[str, Any]:
    """Once the worker waits again, one more run of the cell, as Bob: its last run, ended."""
    await wait_until(lambda: kernel_status(live) == "idle" and session._idle_waiting())
    before = last_run(live, "after")["ended"]
    session.submit(["after"], BOB)
    return await ended_after(live, before)


async def test_a_run_the_idle_kernel_takes_goes_out_with_its_request(tmp_path: Path) -> None:
    live, session, before = await sent_at_once(tmp_path)
    kernel = session.kernel
    assert isinstance(kernel, FakeSendingKernel)
    run = await ended_after(live, before)
    assert run["status"] == "ok" and run["by"]["name"] == "bob"
    assert [o["text"] for o in cell(live, "after")["outputs"]] == ["after"]
    await wait_until(lambda: kernel_status(live) == "idle" and len(session.queue) == 0)
    session.submit(["after", "after"], BOB)  # a batch: sent by the worker
    assert kernel.sent_now == ["after"]
    await wait_until(lambda: len(session.queue) == 0 and ended(live, "after"))
    await session.close("done")
    await live.close()


async def test_a_run_sent_at_once_and_restarted_before_the_worker_took_it_ends_cancelled(
    tmp_path: Path,
) -> None:
    live, session, before = await sent_at_once(tmp_path)
    await session.restart({"name": "cy"})  # no await in between: the worker has not woken yet
    assert (await ended_after(live, before))["status"] == "cancelled"
    assert "cy restarted the kernel" in cell(live, "after")["outputs"][-1]["evalue"]
    assert session.queue.running is None and len(session.queue) == 0
    assert (await run_once_idle(live, session))["status"] == "ok"  # on the new kernel
    await session.close("done")
    await live.close()


async def test_a_run_that_could_not_be_sent_at_once_says_why_and_the_queue_goes_on(
    tmp_path: Path,
) -> None:
    live, session, kernel = await idle_session(tmp_path)
    before = last_run(live, "after")["ended"]
    kernel.fail = ConnectionError("the kernel's socket is gone")
    session.submit(["after"], BOB)
    assert (await ended_after(live, before))["status"] == "error"
    assert "the kernel's socket is gone" in str(cell(live, "after")["outputs"])
    kernel.fail = None
    assert (await run_once_idle(live, session))["status"] == "ok"
    assert kernel.sent_now == ["after"]
    await session.close("done")
    await live.close()


async def test_a_run_sent_at_once_and_closed_before_the_worker_took_it_ends_cancelled(
    tmp_path: Path,
) -> None:
    live, session, before = await sent_at_once(tmp_path)
    await session.close("the session was closed")  # no await in between, as above
    assert last_run(live, "after")["ended"] != before
    assert last_run(live, "after")["status"] == "cancelled"
    assert session.queue.running is None and len(session.queue) == 0
    await live.close()
