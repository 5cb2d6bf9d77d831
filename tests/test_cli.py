"""The command line takes every setting from its options, else from COLLABD_<NAME>."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabd.cli import build_parser, settings_from


def test_environment_settings_apply_and_options_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLLABD_HOST", "0.0.0.0")
    monkeypatch.setenv("COLLABD_PORT", "9001")
    monkeypatch.setenv("COLLABD_ROOT", str(tmp_path / "notebooks"))
    monkeypatch.setenv("COLLABD_DATA", str(tmp_path / "state"))
    monkeypatch.setenv("COLLABD_TOKEN", "t" * 43)
    args = build_parser().parse_args(["serve"])
    settings = settings_from(args, args.root)
    assert (settings.host, settings.port) == ("0.0.0.0", 9001)
    assert settings.root == (tmp_path / "notebooks").resolve()
    assert settings.data == (tmp_path / "state").resolve()
    args = build_parser().parse_args(
        ["serve", "--host", "127.0.0.2", "--port", "9002", "--root", str(tmp_path)]
    )
    settings = settings_from(args, args.root)
    assert (settings.host, settings.port, settings.root) == ("127.0.0.2", 9002, tmp_path.resolve())
    assert settings.data == (tmp_path / "state").resolve()


def test_without_environment_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "ROOT", "DATA"):
        monkeypatch.delenv(f"COLLABD_{name}", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")
    args = build_parser().parse_args(["serve", "--token", "x" * 43])
    settings = settings_from(args, args.root)
    assert (settings.host, settings.port) == ("127.0.0.1", 8765)
    assert settings.root == (tmp_path / "notebooks").resolve()
    assert settings.data.parent == (tmp_path / "share" / "collabd").resolve()
    assert settings.data.name.startswith("notebooks-")
