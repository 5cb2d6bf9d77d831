"""The notebooks under the served root, for the home page (blocking: run it off the loop)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MAX_LISTED = 5000  # a root with more notebooks lists the first ones, and says it is cut
SKIPPED = {"node_modules", "__pycache__", ".ipynb_checkpoints", "site-packages"}


@dataclass(frozen=True, slots=True)
class NotebookFile:
    path: str  # relative to the root, with forward slashes
    size: int
    modified: float


def list_notebooks(root: Path, skip: Path | None = None) -> tuple[list[NotebookFile], bool]:
    """Every `.ipynb` under `root` (hidden folders, `skip` and links out of the root left out),
    sorted by path; and whether the list was cut at MAX_LISTED."""
    base = root.resolve()
    skip = skip.resolve() if skip is not None else None
    found: list[NotebookFile] = []
    for folder, dirs, files in os.walk(base, followlinks=False):
        here = Path(folder)
        dirs[:] = sorted(
            d for d in dirs if not d.startswith(".") and d not in SKIPPED and here / d != skip
        )
        for name in sorted(files):
            if not name.endswith(".ipynb") or name.startswith("."):
                continue
            full = here / name
            try:
                stat = full.stat()
            except OSError:
                continue
            found.append(
                NotebookFile(full.relative_to(base).as_posix(), stat.st_size, stat.st_mtime)
            )
            if len(found) >= MAX_LISTED:
                return sorted(found, key=lambda f: f.path), True
    return sorted(found, key=lambda f: f.path), False
