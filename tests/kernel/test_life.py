"""A kernel's life: where and with which spec it starts, idle shutdown, and never a leak."""

from __future__ import annotations

import asyncio
import json
import time

import psutil
import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubFactory, HubProcess
from tests.support.kernel import WAIT, finished, kernel_status, last_run, new_cells
from tests.support.procs import children_running

pytestmark = pytest.mark.kernel


def kernel_pids(hub: HubProcess) -> set[int]:
    assert hub.proc is not None
    return {p.pid for p in children_running(hub.proc.pid, "ipykernel")}


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_kernel_runs_in_the_notebook_folder_and_stops_with_the_hub(
    hub_factory: HubFactory,
) -> None:
    hub = hub_factory()
    (hub.root / "project").mkdir()
    s = hub.create_session("project/analysis.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        (cell,) = await new_cells(ann, "import os\nprint(os.getcwd())\nprint(os.getpid())")
        await ann.run(cell)
        await ann.wait_for(lambda: finished(ann, cell), WAIT)
        cwd, pid = ann.output_text(cell).split()
        assert cwd == str((hub.root / "project").resolve())
        assert int(pid) in kernel_pids(hub)
    hub.stop()
    assert gone(int(pid))


async def test_a_missing_kernelspec_is_reported_and_the_run_cancelled(
    hub_factory: HubFactory,
) -> None:
    hub = hub_factory()
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "no-such-kernel", "display_name": "Nope"}},
        "cells": [
            {
                "id": "c1",
                "cell_type": "code",
                "source": "1",
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
        ],
    }
    (hub.root / "odd.ipynb").write_text(json.dumps(nb))
    s = hub.create_session("odd.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        await ann.run("c1")
        await ann.wait_for(lambda: finished(ann, "c1"), WAIT)
        assert (last_run(ann, "c1") or {})["status"] == "cancelled"
        kernel = ann.state()["kernel"]
        assert kernel["status"] == "dead" and kernel["name"] == "no-such-kernel"
        assert "no kernelspec named 'no-such-kernel'" in kernel["reason"]
        assert "python3" in kernel["reason"]  # it says which ones exist


async def test_kernel_starts_with_the_session_and_stops_when_idle(hub_factory: HubFactory) -> None:
    env = {"COLLABD_KERNEL_START_WITH_SESSION": "1", "COLLABD_KERNEL_IDLE_SHUTDOWN_S": "4"}
    hub = hub_factory(env)
    s = hub.create_session("idle.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        await ann.wait_for(lambda: kernel_status(ann) == "idle", WAIT)
        (pid,) = kernel_pids(hub)
        await ann.wait_for(lambda: kernel_status(ann) == "dead", WAIT)
        assert "without runs" in ann.state()["kernel"]["reason"]
        assert gone(pid)
        (cell,) = await new_cells(ann, "print('back')")
        await ann.run(cell)
        await ann.wait_for(lambda: finished(ann, cell), WAIT)
        assert ann.output_text(cell) == "back\n"


async def test_a_killed_hub_leaks_no_kernel_and_comes_back_clean(hub_factory: HubFactory) -> None:
    hub = hub_factory()
    s = hub.create_session("killed.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        cell, slow = await new_cells(
            ann, "import os\nprint(os.getpid())", "import time\ntime.sleep(60)"
        )
        await ann.run(cell)
        await ann.wait_for(lambda: finished(ann, cell), WAIT)
        pid = int(ann.output_text(cell))
        await ann.run(slow)
        await ann.wait_for(lambda: ann.cell(slow)["execution_state"] == "running", WAIT)
        hub.kill9()
    deadline = time.monotonic() + WAIT
    while not gone(pid):  # ipykernel notices that its parent is gone
        assert time.monotonic() < deadline, "the kernel outlived its hub"
        await asyncio.sleep(0.2)
    hub.start()
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        assert ann.cell(slow)["execution_state"] == "idle"
        cut_off = ann.cell(slow)["metadata"]["collabd"]["last_run"]
        assert cut_off["status"] == "cancelled" and "hub restarted" in cut_off["reason"]
        assert not ann.state().get("queue")
        kernel = ann.state()["kernel"]
        assert kernel["status"] == "dead" and "hub restarted" in kernel["reason"]
        await ann.run(cell)
        await ann.wait_for(lambda: ann.output_text(cell) not in ("", str(pid) + "\n"), WAIT)
