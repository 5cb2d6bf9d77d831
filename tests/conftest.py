"""Shared fixtures: real hub processes on loopback, with real SQLite files and real kernels."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TOKEN = "admin-" + "x" * 40


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

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubProcess:
        self.log_path = self.data.parent / f"hub-{self.port}-{time.time_ns()}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        cmd = [
            sys.executable, "-m", "collabd.cli", "serve",
            "--host", "127.0.0.1", "--port", str(self.port),
            "--root", str(self.root), "--data", str(self.data), "--token", self.token,
        ]  # fmt: skip
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited early:\n{self.log()}")
            try:
                urllib.request.urlopen(f"{self.base}/api/health", timeout=1).read()
                return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"hub did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

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


@pytest.fixture
def hub_factory(tmp_path: Path) -> Iterator[Any]:
    started: list[HubProcess] = []

    def make(env: dict[str, str] | None = None, root: Path | None = None) -> HubProcess:
        root = root or tmp_path / "root"
        root.mkdir(exist_ok=True)
        hub = HubProcess(root=root, data=tmp_path / "data", env=env or {})
        started.append(hub)
        return hub.start()

    yield make
    for hub in started:
        hub.stop()


@pytest.fixture
def hub(hub_factory: Any) -> HubProcess:
    return hub_factory()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def shared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HubProcess]:
    """One hub for a module whose tests each use their own session."""
    base = tmp_path_factory.mktemp("shared")
    (base / "root").mkdir()
    hub = HubProcess(root=base / "root", data=base / "data").start()
    yield hub
    hub.stop()
