"""The servers under test: collabd, the pycrdt-websocket baseline, the Node reference."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .common import BENCH, LOADGEN, VENV_BIN, Json
from .procs import free_port, pinned, wait_port


@dataclass
class Server:
    """A running server under test: how to reach a notebook's room, and its process."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    root: Path
    room_url: Callable[[str], str]
    log: Path
    view_url: Callable[[str], str] | None = None  # a view link to the room (None: room_url)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_baseline(work: Path, cpu: int | None, ws: str) -> Server:
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work / "server.log"
    cmd = [sys.executable, str(BENCH / "baseline_server.py"), "--port", str(port)]
    cmd += ["--root", str(root), "--ws", ws]
    proc = subprocess.Popen(pinned(cpu, cmd), stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_port(port, proc)
    return Server("baseline", proc, port, root, lambda nb: f"ws://127.0.0.1:{port}/{nb}", log)


def start_node(work: Path, cpu: int | None) -> Server:
    """The reference: a minimal y-websocket server on Node's yjs (loadgen/node_server.mjs)."""
    root = work / "root"
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work / "server.log"
    cmd = ["node", str(LOADGEN / "node_server.mjs"), str(port), str(root)]
    proc = subprocess.Popen(pinned(cpu, cmd), stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_port(port, proc)
    return Server("node", proc, port, root, lambda nb: f"ws://127.0.0.1:{port}/{nb}", log)


def http_json(url: str, token: str, body: Json | None = None) -> Json:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    req.add_header("Authorization", f"Bearer {token}")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=30) as resp:
        out: Json = json.loads(resp.read())
        return out


def start_collabd(
    work: Path,
    cpu: int | None,
    extra: list[str],
    env: dict[str, str],
    collabd_cmd: list[str] | None = None,
) -> Server:
    root, data = work / "root", work / "data"
    root.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    token = "bench-" + os.urandom(16).hex()
    log = work / "server.log"
    exe = shutil.which("collabd", path=str(VENV_BIN)) or "collabd"
    # COLLABD_BENCH_TREE: another version's tree (`git archive REF collabd | tar -x -C DIR`),
    # run as `python -m collabd.cli` from that folder. From its folder: `-m` puts the working
    # directory first on sys.path, so run from this repository it would import this tree.
    tree = os.environ.get("COLLABD_BENCH_TREE")
    default = [sys.executable, "-m", "collabd.cli"] if tree else [exe]
    cmd = [*(collabd_cmd or default), "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--root", str(root), "--data", str(data), "--token", token, *extra]
    proc = subprocess.Popen(
        pinned(cpu, cmd),
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        env={**os.environ, **env},
        cwd=tree,
    )
    wait_port(port, proc)

    def room_url(nb: str) -> str:
        s = http_json(f"http://127.0.0.1:{port}/api/sessions", token, {"path": nb})
        return f"ws://127.0.0.1:{port}/ws/{s['id']}?token={s['edit_token']}"

    def view_url(nb: str) -> str:
        s = http_json(f"http://127.0.0.1:{port}/api/sessions", token, {"path": nb})
        return f"ws://127.0.0.1:{port}/ws/{s['id']}?token={s['view_token']}"

    return Server("collabd", proc, port, root, room_url, log, view_url)
