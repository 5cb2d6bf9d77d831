"""Where a hub keeps its store when `--data` is not given: outside the notebook root.

Anything under the root is within reach of every kernel (the notebook folder is where editors'
code works), so the default is `$XDG_DATA_HOME/collabd/<root's name>-<hash of its path>`
(`~/.local/share/collabd/…`), created 0700. Hubs before 0.3 kept it in `ROOT/.collabd`: a store
found there is still used, with a warning saying how to move it.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

LEGACY_NAME = ".collabd"
STORE_NAME = "collabd.sqlite3"


@dataclass(frozen=True)
class DataChoice:
    path: Path
    warning: str | None = None  # said once at start-up


def default_data(root: Path, environ: Mapping[str, str] | None = None) -> Path:
    """The data folder of the hub serving `root` (an absolute path): one per root, so two hubs
    on two roots never share a store."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_DATA_HOME") or ""
    share = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    digest = hashlib.sha256(os.fsencode(root)).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", root.name)[:40] or "root"
    return share / "collabd" / f"{name}-{digest}"


def choose_data(root: Path, environ: Mapping[str, str] | None = None) -> DataChoice:
    """The data folder when none is given: the legacy `ROOT/.collabd` if it holds a store,
    else `default_data(root)`."""
    legacy = root / LEGACY_NAME
    new = default_data(root, environ)
    if (legacy / STORE_NAME).exists():
        return DataChoice(legacy, moving_advice(legacy, new))
    return DataChoice(new)


def moving_advice(legacy: Path, new: Path) -> str:
    return (
        f"the store is in {legacy}, inside the notebook root, where kernels (anyone's code in a"
        f" cell) can read and change it. Stop the hub and move it out: mkdir -p {new.parent} &&"
        f" mv {legacy} {new} (the new default), or give --data to choose the folder"
    )


def make_private(folder: Path) -> None:
    """Create the data folder (and its missing parents) 0700."""
    for missing in reversed([folder, *folder.parents]):
        if not missing.exists():
            missing.mkdir(mode=0o700, exist_ok=True)
            missing.chmod(0o700)  # mkdir's mode goes through the umask
