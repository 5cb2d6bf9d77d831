"""Issue 12: kernel code cannot reach the hub's secrets (a real hub process, a real ipykernel).

With the defaults, the kernel talks to the hub over unix sockets in a private folder (no TCP port
to connect to) and finds the admin token neither in its environment nor on the hub's command
line. In bubblewrap (`COLLABD_KERNEL_SANDBOX=bwrap`) it cannot see the hub's process at all, nor
the store, nor the token file, even when both sit inside the notebook root; it can still write
the notebook root, and input(), interrupt and a restart after its death still work.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from collabd.client import NotebookClient
from tests.support.hubproc import HubProcess, new_hub
from tests.support.kernel import WAIT, kernel_status, new_cells, wait_finished
from tests.support.procs import children_running

pytestmark = [pytest.mark.kernel]

PROBE = r"""
import glob, json, os, sys
from ipykernel.connect import get_connection_file

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

def writable(path):
    try:
        with open(path, "ab"):
            return True
    except OSError:
        return False

hub, token = %(hub)d, %(token)r
connection = get_connection_file()
cmdline, environ = read(f"/proc/{hub}/cmdline"), read(f"/proc/{hub}/environ")
hubs = [p for p in glob.glob("/proc/[0-9]*/cmdline") if b"collabd.cli" in (read(p) or b"")]
print(json.dumps({
    "token_in_env": any(token in value for value in os.environ.values()),
    "token_in_cmdline": cmdline is not None and token.encode() in cmdline,
    "token_in_environ": environ is not None and token.encode() in environ,
    "token_file": read(%(token_file)r),
    "hub_visible": os.path.exists(f"/proc/{hub}") or bool(hubs),
    "transport": json.loads(read(connection))["transport"],
    "socket_dir_mode": oct(os.stat(os.path.dirname(connection)).st_mode & 0o777),
    "store_readable": read(%(store)r) is not None,
    "store_writable": writable(%(store)r),
    "data_listing": os.listdir(%(data)r) if os.path.isdir(%(data)r) else None,
    "fork_pipe_port": sys.stdout.pub_thread._pipe_port,
}, default=lambda b: b.decode(errors="replace")))
"""


def start_hub(base: Path, env: dict[str, str], *, data_in_root: bool) -> HubProcess:
    """A hub whose admin token is in a file; its data folder and that file inside the notebook
    root when `data_in_root` (the layout of hubs before 0.3: the hardest to hide)."""
    hub = new_hub(base, env)
    inside = hub.root if data_in_root else base
    hub.data = inside / ".collabd"
    hub.token_file = inside / "admin-token"
    return hub.start()


async def probe(hub: HubProcess, name: str) -> dict[str, Any]:
    assert hub.proc is not None and hub.token_file is not None
    code = PROBE % {
        "hub": hub.proc.pid,
        "token": hub.token,
        "token_file": str(hub.token_file),
        "store": str(hub.data / "collabd.sqlite3"),
        "data": str(hub.data),
    }
    s = hub.create_session(f"{name}.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="probe") as nb:
        (cell,) = await new_cells(nb, code)
        await nb.run(cell)
        run = await wait_finished(nb, cell)
        assert run["status"] == "ok", nb.output_text(cell)
        report: dict[str, Any] = json.loads(nb.output_text(cell).strip().splitlines()[-1])
    return report


def tcp_listeners(hub: HubProcess) -> list[int]:
    """The port of every TCP socket listening in the hub's child processes (its kernels)."""
    assert hub.proc is not None
    return [
        conn.laddr.port
        for child in psutil.Process(hub.proc.pid).children(recursive=True)
        for conn in child.net_connections(kind="tcp")
        if conn.status == psutil.CONN_LISTEN
    ]


def only_the_fork_pipe(hub: HubProcess, report: dict[str, Any]) -> None:
    """No kernel channel listens on TCP: the one loopback listener left is ipykernel's own pipe
    for the output of forked subprocesses (it takes only messages that start with a random
    key), which no setting turns off."""
    assert tcp_listeners(hub) == [report["fork_pipe_port"]]


def kernel_processes(hub: HubProcess) -> list[psutil.Process]:
    assert hub.proc is not None
    # `python -c <collabd.kernel.prelude.PRELUDE>`, which starts ipykernel's kernel app
    return children_running(hub.proc.pid, "ipykernel import kernelapp")


@pytest.fixture(scope="module")
def plain_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    hub = start_hub(tmp_path_factory.mktemp("plain"), {}, data_in_root=False)
    yield hub
    hub.stop()
    hub.check_log()


@pytest.fixture(scope="module")
def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    env = {"COLLABD_KERNEL_SANDBOX": "bwrap"}
    hub = start_hub(tmp_path_factory.mktemp("bwrap"), env, data_in_root=True)
    yield hub
    hub.stop()
    hub.check_log()


async def test_by_default_no_token_in_the_environment_nor_the_command_line_and_no_tcp(
    plain_hub: HubProcess,
) -> None:
    report = await probe(plain_hub, "plain")
    assert report["token_in_env"] is False
    assert report["token_in_cmdline"] is False
    assert report["transport"] == "ipc"
    assert report["socket_dir_mode"] == "0o700"
    assert len(kernel_processes(plain_hub)) == 1, "the kernel should be the hub's child"
    only_the_fork_pipe(plain_hub, report)


async def test_in_bwrap_the_hub_the_store_and_the_token_file_are_out_of_reach(
    sandboxed: HubProcess,
) -> None:
    report = await probe(sandboxed, "probe")
    assert report["hub_visible"] is False
    assert report["token_in_env"] is False
    assert report["token_in_cmdline"] is False
    assert report["token_in_environ"] is False
    assert report["token_file"] is None  # /dev/null over it (a nodev mount): cannot be opened
    assert report["store_readable"] is False
    assert report["store_writable"] is False
    assert report["data_listing"] == []  # an empty tmpfs over the data folder
    assert report["transport"] == "ipc"
    only_the_fork_pipe(sandboxed, report)
    assert (sandboxed.data / "collabd.sqlite3").stat().st_size > 0  # the hub's store is intact


async def test_in_bwrap_the_notebook_root_is_writable(sandboxed: HubProcess) -> None:
    (sandboxed.root / "sub").mkdir()
    s = sandboxed.create_session("sub/writes.ipynb")
    code = "open('made-in-the-sandbox.txt', 'w').write('hello from the kernel')"
    async with NotebookClient.from_link(s["edit_url"], name="ann") as nb:
        (cell,) = await new_cells(nb, code)
        await nb.run(cell)
        run = await wait_finished(nb, cell)
        assert run["status"] == "ok", nb.output_text(cell)
    made = sandboxed.root / "sub" / "made-in-the-sandbox.txt"
    assert made.read_text() == "hello from the kernel"


async def test_in_bwrap_input_interrupt_and_death_still_work(sandboxed: HubProcess) -> None:
    s = sandboxed.create_session("lifecycle.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        ask, loop, die, after = await new_cells(
            ann,
            "name = input('Name? ')\nprint('hello', name)",
            "while True: pass",
            "import os, time; time.sleep(0.5); os._exit(1)",
            "print(1 + 1)",
        )
        request_id = (await ann.run(ask))["request_id"]
        await ann.wait_for(lambda: ann.state().get("input_request"), WAIT)
        await ann.request("POST", "/input", {"request_id": request_id, "value": "Ada"})
        await wait_finished(ann, ask)
        assert ann.output_text(ask) == "Name? Ada\nhello Ada\n"

        await ann.run(loop)
        await ann.wait_for(lambda: ann.cell(loop)["execution_state"] == "running", WAIT)
        await ann.request("POST", "/kernel/interrupt", {"by": {"name": "ann"}})
        run = await wait_finished(ann, loop)
        assert run["status"] == "error" and "KeyboardInterrupt" in ann.output_text(loop)

        await ann.run(die)
        run = await wait_finished(ann, die)
        errors = [o for o in ann.outputs(die) if o["output_type"] == "error"]
        assert run["status"] == "error" and errors[-1]["ename"] == "KernelDied"
        await ann.wait_for(lambda: kernel_status(ann) == "idle", WAIT)
        await ann.run(after)
        await wait_finished(ann, after)
        assert ann.output_text(after) == "2\n"
