"""Helpers for the tests that run code on a real ipykernel through a hub process."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from collabd.client import NotebookClient

from .hubproc import HubProcess, new_hub

WAIT = 60.0  # generous: other helpers' tests share the two cores


@contextmanager
def module_hub(
    factory: pytest.TempPathFactory, env: dict[str, str] | None = None
) -> Iterator[HubProcess]:
    """A hub process for a module-scoped fixture (starting kernels is the slow part)."""
    hub = new_hub(factory.mktemp("kernel-hub"), env).start()
    try:
        yield hub
    finally:
        hub.stop()
    hub.check_log()


@contextmanager
def running_hub(env: dict[str, str] | None = None) -> Iterator[HubProcess]:
    """A hub process in a temporary folder of its own, for tests that stop and start things."""
    base = Path(tempfile.mkdtemp(prefix="collabd-kernel-"))
    hub = new_hub(base, env).start()
    try:
        yield hub
    finally:
        hub.stop()
    try:
        hub.check_log()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def last_run(nb: NotebookClient, cell_id: str) -> dict[str, Any] | None:
    metadata = nb.cell_field(cell_id, "metadata") or {}
    result = (metadata.get("collabd") or {}).get("last_run")
    return result if isinstance(result, dict) else None


def finished(nb: NotebookClient, cell_id: str) -> dict[str, Any] | None:
    """The cell's last run once it has ended and the cell is idle again (read field by field:
    the check runs after every message, and bench/kernel_bench.py times what it waits for)."""
    run = last_run(nb, cell_id)
    if run and run.get("ended") and nb.cell_field(cell_id, "execution_state") == "idle":
        return run
    return None


async def wait_finished(nb: NotebookClient, cell_id: str, timeout: float = WAIT) -> dict[str, Any]:
    result: dict[str, Any] = await nb.wait_for(lambda: finished(nb, cell_id), timeout)
    return result


async def wait_next_finished(
    nb: NotebookClient, cell_id: str, before: dict[str, Any] | None, timeout: float = WAIT
) -> dict[str, Any]:
    """`wait_finished` for a run after `before` (the cell's last run when it was asked for): a
    quick run's first output can arrive while the cell still shows the previous run, ended."""

    def done() -> dict[str, Any] | None:
        run = finished(nb, cell_id)
        return run if run is not None and run != before else None

    result: dict[str, Any] = await nb.wait_for(done, timeout)
    return result


def queue_cells(nb: NotebookClient) -> list[tuple[str, str]]:
    return [(q["cell_id"], q["state"]) for q in nb.state().get("queue") or []]


def kernel_status(nb: NotebookClient) -> str | None:
    kernel = nb.state().get("kernel") or {}
    return kernel.get("status")


async def new_cells(nb: NotebookClient, *sources: str) -> list[str]:
    """Add cells at the end and wait until the hub has them (it looks cells up by id)."""
    ids = [nb.insert_cell(len(nb.cells()), source) for source in sources]
    await hub_has(nb, ids)
    return ids


async def hub_has(nb: NotebookClient, cell_ids: list[str], timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        cells = (await nb.notebook_json())["cells"]
        if set(cell_ids) <= {c["id"] for c in cells}:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the hub never got cells {cell_ids}")
        await asyncio.sleep(0.05)
