"""py-spy on a server during an editing window, and a summary of its samples."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

from .common import VENV_BIN, Options
from .procs import pinned
from .servers import Server


def start_profiler(srv: Server, opt: Options, n: int) -> subprocess.Popen[bytes]:
    """py-spy on the server for the editing window (it samples from the load-gen core).

    Writes collapsed stacks (`<name>-<n>.txt`, one `frame;frame;... count` per line), which
    `summarize_profile` turns into the top frames."""
    assert opt.profile_dir is not None
    opt.profile_dir.mkdir(parents=True, exist_ok=True)
    out = opt.profile_dir / f"{srv.name}-{n}.txt"
    exe = shutil.which("py-spy", path=str(VENV_BIN)) or "py-spy"
    cmd = [exe, "record", "--pid", str(srv.pid), "--duration", str(int(opt.duration))]
    cmd += [
        "--rate",
        os.environ.get("COLLABD_PYSPY_RATE", "250"),
        "--nonblocking",
        "--format",
        "raw",
        "-o",
        str(out),
    ]
    return subprocess.Popen(
        pinned(opt.load_cpu, cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def summarize_profile(path: Path, top: int = 25) -> str:
    """Inclusive and self share of the busiest frames, idle thread-pool waits left out."""
    incl: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";")]
        if frames[-1].startswith(("_worker (thread.py", "EpollSelector.select")):
            continue  # waiting, not working
        n = int(count)
        total += n
        for f in set(frames):
            incl[f] += n
        own[frames[-1]] += n
    lines = [f"{path.name}: {total} busy samples"]
    lines += [f"  incl {100 * v / total:5.1f}%  {k}" for k, v in incl.most_common(top)]
    lines += [f"  self {100 * v / total:5.1f}%  {k}" for k, v in own.most_common(top)]
    return "\n".join(lines)


def _frame(raw: str) -> str:
    """`func (path/to/file.py:12)` -> `func (file.py:12)`."""
    name, sep, where = raw.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1]}" if sep else raw
