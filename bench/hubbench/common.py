"""Shared constants, switches and the run options of hub_bench."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent
REPO = BENCH.parent
LOADGEN = BENCH / "loadgen"
VENV_BIN = Path(sys.executable).parent

Json = dict[str, Any]
NICE = [0]  # set from --nice: priority of the server and load generator
DEFLATE = [False]  # set from --deflate: every loadgen client offers permessage-deflate


@dataclass
class Options:
    editors: list[int]
    rate: float
    duration: float
    edit_cells: int
    sync_cells: int
    sync_tries: int
    idle: int
    fresh: int
    server_cpu: int | None
    load_cpu: int | None
    profile_dir: Path | None = None
    collabd_args: list[str] = field(default_factory=list)
    baseline_ws: str = "auto"
    collabd_env: dict[str, str] = field(default_factory=dict)
    fresh_tries: int = 3
    quiet_wait: float = 60.0
    phases: tuple[str, ...] = ("edit", "sync", "idle", "fresh")
    viewers: int = 1000  # the lecture phase: viewers (view links) watching
    lecture_editors: int = 5  # and editors typing
    workdir: Path | None = None
    collabd_cmd: list[str] | None = None
