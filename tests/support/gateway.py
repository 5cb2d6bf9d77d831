"""A real `jupyter kernelgateway` (or `jupyter enterprisegateway`) process on a free loopback
port, for the kernel host tests.

Enterprise Gateway pins jupyter_client < 7 and jupyter_server < 2, which collabd cannot run
with, so it lives in a virtualenv of its own, `.venv-eg` (`make enterprise-gateway`).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from collabd.client import NotebookClient
from tests.support.procs import children_running

from .hubproc import free_port
from .kernel import WAIT

GATEWAY_TOKEN = "gw-secret-" + "s" * 30
ROOT = Path(__file__).resolve().parents[2]
EG_VENV = ROOT / ".venv-eg"


@dataclass
class GatewayProcess:
    base: Path
    port: int = field(default_factory=free_port)
    token: str = GATEWAY_TOKEN
    proc: subprocess.Popen[bytes] | None = None
    args: tuple[str, ...] = ()  # more of the gateway's own options

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "kernel_gateway",
            "--KernelGatewayApp.ip=127.0.0.1", f"--KernelGatewayApp.port={self.port}",
            "--KernelGatewayApp.port_retries=0", f"--KernelGatewayApp.auth_token={self.token}",
            "--JupyterWebsocketPersonality.list_kernels=True",
        ]  # fmt: skip

    def python_bin(self) -> Path:
        """Where the kernelspec's `python` (with ipykernel) is found."""
        return Path(sys.executable).parent

    def extra_env(self) -> dict[str, str]:
        return {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GatewayProcess:
        runtime = self.base / "runtime"
        runtime.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            # the kernelspec says `python`: this virtualenv's, which has ipykernel
            "PATH": f"{self.python_bin()}{os.pathsep}{os.environ.get('PATH', '')}",
            "JUPYTER_RUNTIME_DIR": str(runtime),
            "PYTHONUNBUFFERED": "1",
            **self.extra_env(),
        }
        cmd = [*self.command(), *self.args]
        log = open(self.base / f"gateway-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.base
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the gateway exited early:\n{self.log()}")
            try:
                status, _ = self.api("GET", "/api/kernelspecs")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the gateway did not start:\n{self.log()}")

    def log(self) -> str:
        path = self.base / f"gateway-{self.port}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def api(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw, status = resp.read(), resp.status
        except urllib.error.HTTPError as err:
            raw, status = err.read(), err.code
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")

    def kernel_ids(self) -> list[str]:
        status, kernels = self.api("GET", "/api/kernels")
        assert status == 200, kernels
        return [k["id"] for k in kernels]

    def kernel_pids(self) -> set[int]:
        assert self.proc is not None
        return {p.pid for p in children_running(self.proc.pid, "ipykernel")}

    def kill9(self) -> None:
        """The gateway dies at once; its kernels are killed too (as a crashed machine's)."""
        assert self.proc is not None
        kernels = self.kernel_pids()
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)
        for pid in kernels:
            with suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class EnterpriseGatewayProcess(GatewayProcess):
    """`jupyter enterprisegateway` with its local process proxy (kernels beside it, no cluster),
    from `.venv-eg`."""

    def command(self) -> list[str]:
        exe = EG_VENV / "bin" / "jupyter-enterprisegateway"
        if not exe.exists():
            raise RuntimeError(f"{exe} is missing: `make enterprise-gateway` installs it")
        return [
            str(exe),
            "--EnterpriseGatewayApp.ip=127.0.0.1", f"--EnterpriseGatewayApp.port={self.port}",
            "--EnterpriseGatewayApp.port_retries=0",
            f"--EnterpriseGatewayApp.auth_token={self.token}",
            "--EnterpriseGatewayApp.list_kernels=True",
            # it refuses kernels for `root` unless told otherwise (the tests may run as root)
            "--EnterpriseGatewayApp.unauthorized_users=set()",
        ]  # fmt: skip

    def python_bin(self) -> Path:
        return EG_VENV / "bin"


@contextmanager
def running_gateway(
    kind: type[GatewayProcess] = GatewayProcess, args: tuple[str, ...] = ()
) -> Iterator[GatewayProcess]:
    base = Path(tempfile.mkdtemp(prefix="collabd-gateway-"))
    gateway = kind(base, args=args).start()
    try:
        yield gateway
    finally:
        gateway.stop()
        shutil.rmtree(base, ignore_errors=True)


def hosts_env(gateway: GatewayProcess, cwd: str = "", **extra: str) -> dict[str, str]:
    """A hub's environment with the gateway as the host `gpu` and an unreachable host `down`."""
    gpu = {"name": "gpu", "url": gateway.url, "token": gateway.token, "description": "the GPU box"}
    hosts = [
        {**gpu, "cwd": cwd} if cwd else gpu,
        {"name": "down", "url": f"http://127.0.0.1:{free_port()}", "description": "switched off"},
    ]
    return {"COLLABD_KERNEL_HOSTS": json.dumps(hosts), **extra}


async def select(nb: NotebookClient, host: str, spec: str = "python3", by: str = "ann") -> Any:
    return await nb.request(
        "POST", "/kernel/select", {"host": host, "spec": spec, "by": {"name": by}}
    )


def kernel_info(nb: NotebookClient) -> dict[str, Any]:
    return dict(nb.state().get("kernel") or {})


async def wait_kernel(nb: NotebookClient, host: str, status: str = "idle") -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        info = kernel_info(nb)
        return info if info.get("host") == host and info.get("status") == status else None

    result: dict[str, Any] = await nb.wait_for(ready, WAIT)
    return result
