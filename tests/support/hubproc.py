"""Hubs as processes: `collabd serve` (and `collabd replay FILE`) on a free loopback port.

Only for what is about the process: kill -9 and restarts, kernels across a restart, uvicorn's own
send paths, the CLI, and the browser tests. Everything else runs in process (support/inproc.py).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOKEN = "admin-" + "x" * 40
REPLAY_TOKEN = "replay-token"
START_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HubProcess:
    """A `collabd serve` subprocess; restartable on the same root, data and port."""

    root: Path
    data: Path
    port: int = field(default_factory=free_port)
    token: str = TOKEN
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None
    token_file: Path | None = None  # give the admin token in this file, not on the command line

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if self.token_file is not None:
            self.token_file.write_text(self.token + "\n")
            self.token_file.chmod(0o600)
        token = ["--token", self.token] if self.token_file is None else []
        token_file = ["--token-file", str(self.token_file)] if self.token_file else []
        return [
            sys.executable, "-m", "collabd.cli", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--root", str(self.root), "--data", str(self.data), *token, *token_file,
        ]  # fmt: skip

    def start(self) -> HubProcess:
        self.launch()
        return self.wait_started()

    def launch(self) -> None:
        """Starts the process without waiting for it to answer (`wait_started` waits)."""
        self.log_path = self.data.parent / f"hub-{self.port}-{time.time_ns()}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=subprocess.STDOUT, env=env
            )

    def wait_started(self) -> HubProcess:
        assert self.proc is not None
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.command()[3]} exited early:\n{self.log()}")
            try:
                urllib.request.urlopen(f"{self.base}/api/health", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.command()[3]} did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        stop_all([self])

    def ask_to_stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)

    def wait_stopped(self) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def check_log(self) -> None:
        """What a hub must never log, whatever the test was about."""
        assert "is not expected" not in self.log(), "a kernel status change broke the state machine"

    def get(self, path: str, token: str | None = None) -> tuple[int, bytes, dict[str, str]]:
        """A GET with the raw body and the headers."""
        req = urllib.request.Request(f"{self.base}{path}")
        req.add_header("Authorization", f"Bearer {token or self.token}")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            return err.code, err.read(), dict(err.headers)

    def api(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.token}")
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                raw = resp.read()
                status = resp.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def create_session(self, path: str = "nb.ipynb") -> dict[str, Any]:
        status, body = self.api("POST", "/api/sessions", {"path": path})
        assert status in (200, 201), body
        return dict(body)


@dataclass
class ReplayProcess(HubProcess):
    """`collabd replay FILE`: an exported recording served on its own, read-only."""

    file: Path = Path()
    token: str = REPLAY_TOKEN

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "collabd.cli", "replay", str(self.file),
            "--port", str(self.port), "--token", self.token, "--log-level", "warning",
        ]  # fmt: skip


HubFactory = Callable[..., HubProcess]  # the hub_factory fixture: (env=None) -> a started hub


def new_hub(base: Path, env: dict[str, str] | None = None) -> HubProcess:
    """A hub (not started) with its root and data under `base`."""
    (base / "root").mkdir(parents=True, exist_ok=True)
    return HubProcess(root=base / "root", data=base / "data", env=env or {})


def start_replay(file: Path, workdir: Path) -> ReplayProcess:
    replay = ReplayProcess(root=workdir, data=workdir / "replay-data", file=file)
    replay.data.mkdir(parents=True, exist_ok=True)
    replay.start()
    return replay


def start_all(hubs: list[HubProcess]) -> list[HubProcess]:
    """Starts hubs side by side (each spends a second or more importing before it answers)."""
    for hub in hubs:
        hub.launch()
    return [hub.wait_started() for hub in hubs]


def stop_all(hubs: list[HubProcess]) -> None:
    """Stops hubs side by side: each hands its sessions over, then exits."""
    for hub in hubs:
        hub.ask_to_stop()
    for hub in hubs:
        hub.wait_stopped()
