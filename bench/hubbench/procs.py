"""Processes: ports, pinning and priority, CPU time and RSS, machine load."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable

import psutil  # type: ignore[import-untyped]

from . import common


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"server did not listen on {port} within {timeout} s")


def cpu_seconds(pid: int) -> float:
    """utime+stime of the process and its live descendants (threads are included)."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def rss_bytes(pid: int) -> int:
    rss: int = psutil.Process(pid).memory_info().rss
    return rss


def pinned(cpu: int | None, cmd: list[str]) -> list[str]:
    """`cmd` on core `cpu` (taskset), at priority NICE (the same pid: both exec the command)."""
    if common.NICE[0] and shutil.which("nice") is not None:
        cmd = ["nice", "-n", str(common.NICE[0]), *cmd]
    if cpu is None or shutil.which("taskset") is None:
        return cmd
    return ["taskset", "-c", str(cpu), *cmd]


def machine_busy_seconds() -> float:
    """CPU time all cores spent on anything but idle/iowait since boot."""
    t = psutil.cpu_times()
    busy: float = sum(t) - t.idle - getattr(t, "iowait", 0.0)
    return busy


def wait_quiet(threshold: float, max_wait: float, log: Callable[[str], None]) -> float:
    """Wait (at most `max_wait` s) until the machine's busy share over 1 s is under
    `threshold` (fraction of one core), so other jobs disturb the window less. Returns the
    last share seen."""
    end = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        share = machine_busy_seconds() - before
        if share < threshold or time.monotonic() >= end:
            return share
        log(f"  machine busy at {100 * share:.0f}% of a core; waiting for it to calm down")
