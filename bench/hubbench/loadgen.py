"""Running bench/loadgen/loadgen.mjs and answering its marks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable

from . import common
from .common import LOADGEN, Json
from .procs import pinned


def run_loadgen(
    cfg: Json, cpu: int | None, on_mark: Callable[[str, int], None], budget: float = 600
) -> Json:
    """Run one loadgen mode; `on_mark(name, loadgen pid)` runs at each MARK before it goes on."""
    cfg = {**cfg, "budget": budget, "deflate": common.DEFLATE[0]}
    cmd = pinned(cpu, ["node", str(LOADGEN / "loadgen.mjs"), json.dumps(cfg)])
    proc = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=LOADGEN
    )
    assert proc.stdin is not None and proc.stdout is not None
    result: Json | None = None
    try:
        for raw in proc.stdout:
            line = raw.decode().strip()
            if line.startswith("MARK "):
                on_mark(line[5:], proc.pid)
                proc.stdin.write(b"ok\n")
                proc.stdin.flush()
            elif line.startswith("RESULT "):
                result = json.loads(line[7:])
        proc.wait(budget + 10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if result is None:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise RuntimeError(f"loadgen {cfg['mode']} failed ({proc.returncode}): {err[-2000:]}")
    return result
