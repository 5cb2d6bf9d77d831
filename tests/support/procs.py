"""The live processes under a parent whose command line holds a marker, read without racing
the ones that exit while we look (psutil raises for a process that became a zombie or went
away between the listing and the read of its command line)."""

from __future__ import annotations

import psutil


def running(process: psutil.Process, marker: str) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE and marker in " ".join(process.cmdline())
    except (psutil.ZombieProcess, psutil.NoSuchProcess):
        return False


def children_running(parent: int, marker: str, *, recursive: bool = True) -> list[psutil.Process]:
    try:
        children = psutil.Process(parent).children(recursive=recursive)
    except psutil.NoSuchProcess:
        return []
    return [p for p in children if running(p, marker)]
