"""A local ipykernel starts with no send limit on its iopub socket, so a flood on a busy
machine is not cut (its end, `idle` included, dropped by ZMQ past 1000 queued messages).
A real hub and kernel: the kernel reports its own socket's limit."""

from __future__ import annotations

import pytest

from collabd.client import NotebookClient
from collabd.kernel.iopubhwm import PRELUDE, unlimited_iopub
from tests.support.hubproc import HubProcess
from tests.support.kernel import new_cells, wait_finished

pytestmark = pytest.mark.kernel


def test_only_ipykernels_launcher_is_replaced() -> None:
    cmd = ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "/run/k.json"]
    assert unlimited_iopub(cmd) == ["/env/bin/python", "-c", PRELUDE, "-f", "/run/k.json"]
    other = ["R", "--slave", "-e", "IRkernel::main()", "--args", "/run/k.json"]
    assert unlimited_iopub(other) == other


async def test_the_kernels_iopub_socket_has_no_send_limit(khub: HubProcess) -> None:
    s = khub.create_session("hwm.ipynb")
    code = (
        "import sys, zmq\n"
        "from ipykernel.kernelapp import IPKernelApp\n"
        "print(IPKernelApp.instance().iopub_thread.socket.getsockopt(zmq.SNDHWM))\n"
        "print(sys.path[0] != '')"
    )
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        (cell,) = await new_cells(ann, code)
        await ann.run(cell)
        await wait_finished(ann, cell)
        assert ann.output_text(cell) == "0\nTrue\n"
