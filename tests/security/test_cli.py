"""Findings 3 (partial) and 16: the admin token off the command line, private data files, and a
clear one-line refusal to start on a damaged store (real `collabd serve` processes)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from collabd.store import NewEntry, SessionRecord, SQLiteStore
from tests.support.hubproc import HubProcess, free_port

pytestmark = [pytest.mark.slow]


def serve(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    (tmp_path / "root").mkdir(exist_ok=True)
    cmd = [
        sys.executable, "-m", "collabd.cli", "serve", "--port", str(free_port()),
        "--root", str(tmp_path / "root"), "--data", str(tmp_path / "data"), *args,
    ]  # fmt: skip
    inherited = {k: v for k, v in os.environ.items() if k != "COLLABD_TOKEN"}
    full_env = {**inherited, "PYTHONUNBUFFERED": "1", **(env or {})}
    pipe = subprocess.PIPE
    return subprocess.Popen(cmd, stdout=pipe, stderr=pipe, text=True, env=full_env)


def port_of(proc: subprocess.Popen[str]) -> int:
    args = list(proc.args)  # type: ignore[arg-type]
    return int(args[args.index("--port") + 1])


def a_store_with_history(path: Path) -> None:
    store = SQLiteStore(path)
    store.add_session(SessionRecord("abc", "nb.ipynb", "e" * 20, "v" * 20, time.time()))
    for _ in range(300):
        store.append("abc", [NewEntry(time.time(), "update", "peer:1", os.urandom(3000))])
    store._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()


@pytest.mark.parametrize("damage", ["clobbered", "truncated"])
def test_a_damaged_store_is_one_clear_line_and_exit_1(tmp_path: Path, damage: str) -> None:
    db = tmp_path / "data" / "collabd.sqlite3"
    a_store_with_history(db)
    if damage == "clobbered":
        with open(db, "r+b") as f:
            f.write(os.urandom(4096))
    else:
        os.truncate(db, db.stat().st_size // 2)
    proc = serve(tmp_path, env={"COLLABD_TOKEN": "t" * 32})
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 1, (out, err)
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(db) in lines[0] and "Move it aside" in lines[0]


def test_token_on_the_command_line_warns_and_token_file_works(tmp_path: Path) -> None:
    proc = serve(tmp_path, "--token", "on-the-command-line-1234567890")
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        assert "visible" in line and "COLLABD_TOKEN" in line and "--token-file" in line
    finally:
        proc.terminate()
        proc.communicate(timeout=30)

    token = "from-a-file-0123456789abcdef"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    proc = serve(tmp_path, "--token-file", str(token_file))
    port = port_of(proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=1).read()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/sessions")
        req.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            assert resp.status == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "--token is visible" not in err


def test_missing_token_file_is_one_line_and_exit_1(tmp_path: Path) -> None:
    proc = serve(tmp_path, "--token-file", str(tmp_path / "nope"))
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert err.strip().splitlines() == [err.strip()] and "token file" in err


def test_data_folder_is_0700_and_its_database_0600(hub: HubProcess) -> None:
    hub.create_session("private.ipynb")
    assert stat.S_IMODE(hub.data.stat().st_mode) == 0o700
    for child in hub.data.iterdir():
        assert stat.S_IMODE(child.stat().st_mode) == 0o600, child


def test_by_default_the_store_is_outside_the_notebook_root_and_private(tmp_path: Path) -> None:
    root, share = tmp_path / "root", tmp_path / "share"
    root.mkdir()
    cmd = [sys.executable, "-m", "collabd.cli", "serve", "--port", str(free_port()),
           "--root", str(root)]  # fmt: skip
    env = {**os.environ, "COLLABD_TOKEN": "t" * 32, "XDG_DATA_HOME": str(share)}
    env.pop("COLLABD_DATA", None)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        said = ""
        while "data in" not in said:  # printed once it listens
            said = proc.stdout.readline()
            assert said or proc.poll() is None, proc.communicate()
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    (data,) = share.glob("collabd/root-*")
    assert said.strip().endswith(f"data in {data}")
    assert (data / "collabd.sqlite3").is_file()
    for folder in (share, share / "collabd", data):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    assert not (root / ".collabd").exists()
