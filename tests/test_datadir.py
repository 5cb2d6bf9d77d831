"""collabd.datadir: the store's default folder is outside the notebook root; an old one inside
it is still used, with a warning that says how to move it."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from collabd.cli import build_parser, settings_from
from collabd.datadir import choose_data, default_data, make_private
from collabd.store import SQLiteStore


def test_the_default_is_per_root_under_xdg_data_home(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "share")}
    a, b = tmp_path / "work" / "course", tmp_path / "other" / "course"
    assert default_data(a, env) == default_data(a, env)
    assert default_data(a, env) != default_data(b, env)  # same name, another folder
    assert default_data(a, env).parent == tmp_path / "share" / "collabd"
    assert default_data(a, env).name.startswith("course-")
    assert not default_data(a, env).is_relative_to(a)


def test_without_xdg_data_home_it_is_under_the_home_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    for env in ({}, {"XDG_DATA_HOME": "relative/ignored"}):
        data = default_data(Path("/srv/notebooks"), env)
        assert data.parent == tmp_path / ".local" / "share" / "collabd"


def test_an_old_store_inside_the_root_is_kept_with_advice(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "share")}
    root = tmp_path / "root"
    assert choose_data(root, env).path == default_data(root, env)
    assert choose_data(root, env).warning is None
    SQLiteStore(root / ".collabd" / "collabd.sqlite3").close()
    choice = choose_data(root, env)
    assert choice.path == root / ".collabd"
    assert choice.warning is not None
    assert f"mv {root / '.collabd'} {default_data(root, env)}" in choice.warning


def test_the_cli_warns_once_about_an_old_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("COLLABD_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    SQLiteStore(tmp_path / ".collabd" / "collabd.sqlite3").close()
    args = build_parser().parse_args(["serve", "--root", str(tmp_path), "--token", "x" * 43])
    with caplog.at_level(logging.WARNING, logger="collabd"):
        settings = settings_from(args, args.root)
    assert settings.data == tmp_path.resolve() / ".collabd"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "inside the notebook root" in warnings[0]
    args = build_parser().parse_args(
        ["serve", "--root", str(tmp_path), "--token", "x" * 43, "--data", str(tmp_path / "d")]
    )
    caplog.clear()
    assert settings_from(args, args.root).data == (tmp_path / "d").resolve()
    assert not caplog.records  # a folder given on purpose: nothing to say


def test_make_private_creates_every_missing_level_0700(tmp_path: Path) -> None:
    folder = tmp_path / "a" / "b" / "c"
    make_private(folder)
    for level in (tmp_path / "a", tmp_path / "a" / "b", folder):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    tmp_path.chmod(0o755)
    make_private(tmp_path)  # an existing folder is left as it is
    assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o755
