"""collabd.paths: notebook paths stay under the root."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collabd import paths


@pytest.mark.parametrize(
    "bad", ["../x.ipynb", "/abs.ipynb", "a/../../x.ipynb", "x.py", "", "a\\b.ipynb", 3, None]
)
def test_paths_outside_root_or_not_notebooks_are_refused(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(paths.BadPath):
        paths.normalize(tmp_path, bad)


def test_paths_are_normalized(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    assert paths.normalize(tmp_path, "./sub//x.ipynb")[0] == "sub/x.ipynb"


def test_symlink_leaving_the_root_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(paths.BadPath):
        paths.normalize(root, "link/x.ipynb")
