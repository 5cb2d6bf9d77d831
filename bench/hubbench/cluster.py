"""cluster_bench's parts: a cluster of `collabd serve` processes on one PostgreSQL database
(created for the run and dropped after it) and one Redis, and the CPU of everything involved."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil  # type: ignore[import-untyped]

from .common import VENV_BIN, Json
from .procs import cpu_seconds, pinned


@dataclass
class Hub:
    """One `collabd serve` of the cluster; restartable on the same port, root and data."""

    index: int
    root: Path
    data: Path
    port: int
    token: str
    env: dict[str, str]
    cpu: int | None
    proc: subprocess.Popen[bytes] | None = None
    logs: list[Path] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)  # node ids it had (a new one per start)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 60.0) -> Hub:
        log = self.data.parent / f"hub{self.index}-{len(self.logs)}.log"
        self.logs.append(log)
        exe = shutil.which("collabd", path=str(VENV_BIN)) or "collabd"
        cmd = [exe, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        tree = os.environ.get("COLLABD_BENCH_TREE")
        if tree:  # another version's collabd/ (e.g. `git archive REF collabd | tar -x -C DIR`)
            boot = f"import sys; sys.path.insert(0, {tree!r}); from collabd.cli import main; "
            boot += "raise SystemExit(main())"
            cmd = [str(VENV_BIN / "python"), "-c", boot, *cmd[1:]]
        cmd += ["--root", str(self.root), "--data", str(self.data), "--token", self.token]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", **self.env}
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                pinned(self.cpu, cmd), stdout=out, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub {self.index} exited: {log.read_text()[-2000:]}")
            status, body = self.health()
            if status == 200:
                self.nodes.append(str(body.get("node")))
                return self
            time.sleep(0.1)
        raise RuntimeError(f"hub {self.index} not healthy within {timeout} s")

    def health(self) -> tuple[int, Json]:
        try:
            with urllib.request.urlopen(f"{self.base}/api/health", timeout=5) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, {}
        except OSError:
            return 0, {}

    def owns(self, session_id: str) -> bool:
        status, body = self.health()
        return status == 200 and session_id in body.get("owned", [])

    def kill9(self) -> list[int]:
        """SIGKILL the hub; returns the pids of its children (kernels) it leaves behind."""
        assert self.proc is not None
        try:
            children = [p.pid for p in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            children = []
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        return children

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # graceful: hands its leases back, stops kernels
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.token}")
        req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def ws_url(self, session: Json) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/{session['id']}?token={session['edit_token']}"


def create_database(admin_url: str) -> str:
    """A fresh database for the run (`collabd_bench_<hex>`); returns its URL."""
    import psycopg

    name = "collabd_bench_" + os.urandom(5).hex()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, db_url: str) -> None:
    import psycopg

    name = db_url.rsplit("/", 1)[1]
    assert re.fullmatch(r"collabd_bench_[0-9a-f]+", name), name  # only the one made here
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def redis_cleanup(redis_url: str, nodes: list[str], rooms: list[str]) -> int:
    """Delete the streams and keys of this run's hubs and rooms (not anybody else's)."""
    import redis

    keys = [f"collabd:node:{n}:{k}" for n in nodes for k in ("out", "alive")]
    keys += [f"collabd:room:{r}:in" for r in rooms]
    client = redis.Redis.from_url(redis_url)
    try:
        deleted: int = client.delete(*keys) if keys else 0
        return deleted
    finally:
        client.close()


class Meter:
    """CPU seconds of the hubs (each, with children), the Redis server, this run's PostgreSQL
    backends, and the machine, read at a moment; `since` gives the differences."""

    def __init__(self, hubs: list[Hub], redis_url: str, admin_url: str, db_url: str) -> None:
        import redis

        self.hubs = hubs
        self._redis = redis.Redis.from_url(redis_url)
        self._admin_url = admin_url
        self._db = db_url.rsplit("/", 1)[1]

    def close(self) -> None:
        self._redis.close()

    def _pg_backends(self) -> dict[int, float]:
        import psycopg

        out: dict[int, float] = {}
        try:
            with psycopg.connect(self._admin_url, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s", (self._db,)
                ).fetchall()
        except Exception:
            return out
        for (pid,) in rows:
            try:
                t = psutil.Process(pid).cpu_times()
                out[pid] = t.user + t.system
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                pass
        return out

    def read(self) -> Json:
        from .procs import machine_busy_seconds

        info = self._redis.info("cpu")
        stats = self._redis.info("stats")
        return {
            "hubs": [cpu_seconds(h.pid) if h.alive else 0.0 for h in self.hubs],
            "redis": float(info["used_cpu_sys"]) + float(info["used_cpu_user"]),
            "redisCommands": int(stats["total_commands_processed"]),
            "pg": self._pg_backends(),
            "machine": machine_busy_seconds(),
            "t": time.monotonic(),
        }

    @staticmethod
    def since(a: Json, b: Json) -> Json:
        pg = sum(v - a["pg"].get(pid, v) for pid, v in b["pg"].items())
        # a backend that appeared meanwhile: all its time is in the window (close enough)
        pg += sum(v for pid, v in b["pg"].items() if pid not in a["pg"])
        return {
            "hubs": [y - x for x, y in zip(a["hubs"], b["hubs"], strict=True)],
            "redis": b["redis"] - a["redis"],
            "redisCommands": b["redisCommands"] - a["redisCommands"],
            "pg": pg,
            "machine": b["machine"] - a["machine"],
            "wall": b["t"] - a["t"],
        }


_LEVEL = re.compile(r" (WARNING|ERROR|CRITICAL) ([\w.]+): (.*)")


def log_findings(hubs: list[Hub], top: int = 12) -> list[str]:
    """Warnings and errors in the hubs' logs, counted by message (numbers and ids masked)."""
    counts: Counter[str] = Counter()
    tracebacks: Counter[str] = Counter()
    for hub in hubs:
        for path in hub.logs:
            if not path.is_file():
                continue
            lines = path.read_text(errors="replace").splitlines()
            for i, line in enumerate(lines):
                m = _LEVEL.search(line)
                if m:
                    msg = re.sub(r"\b[0-9a-f]{8,}\b|\b\d+(\.\d+)?\b", "#", m.group(3))[:160]
                    counts[f"{m.group(1)} {m.group(2)}: {msg}"] += 1
                if line.startswith("Traceback"):
                    # the exception line closes the traceback
                    for j in range(i + 1, min(i + 80, len(lines))):
                        if lines[j] and not lines[j].startswith((" ", "Traceback")):
                            tracebacks[lines[j][:200]] += 1
                            break
    out = [f"{n:5d}x {msg}" for msg, n in counts.most_common(top)]
    out += [f"{n:5d}x traceback ending in: {msg}" for msg, n in tracebacks.most_common(top)]
    return out
