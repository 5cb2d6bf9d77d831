"""A file read when its session is created is reused by the room's first load only while the
file is unchanged (sans I/O but for real files)."""

from __future__ import annotations

from pathlib import Path

import nbformat

from collabd.disk import ipynb, justopened
from tests.support.inproc import InProcHub


def opened(path: Path, source: str) -> tuple[justopened.Stamp | None, ipynb.Opened]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    path.write_text(nbformat.writes(nb))
    return justopened.stamp_of(path), ipynb.read(path.read_text())


def test_the_reading_is_reused_once_while_the_file_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    kept = justopened.JustOpened()
    kept.put("s1", stamp, first)
    taken = kept.take("s1")
    assert justopened.still(path, taken) is first
    assert kept.take("s1") is None  # once: a later load reads the file


def test_a_changed_file_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    opened(path, "a = 1000")  # edited after the session was created
    assert justopened.still(path, (stamp, first)) is None  # type: ignore[arg-type]
    path.unlink()
    assert justopened.still(path, (stamp, first)) is None  # type: ignore[arg-type]


def test_only_the_newest_few_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    kept = justopened.JustOpened(keep=2)
    for sid in ("s1", "s2", "s3"):
        kept.put(sid, stamp, first)
    assert kept.take("s1") is None
    assert kept.take("s2") is not None and kept.take("s3") is not None


def test_a_file_edited_between_creation_and_first_join_is_loaded_as_it_is_then(
    app: InProcHub,
) -> None:
    path = app.root / "nb.ipynb"
    opened(path, "print('as created')")
    s = app.create_session("nb.ipynb")
    opened(path, "print('edited before anyone joined')")
    with app.peer(s) as c:
        assert [c.source(cell) for cell in c.cell_ids()] == ["print('edited before anyone joined')"]


def test_a_reading_is_kept_a_short_while_and_not_for_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / "nb.ipynb"
    stamp, first = opened(path, "a = 1")
    assert stamp is not None
    kept = justopened.JustOpened(keep_s=-1.0)  # expired as soon as anything else happens
    kept.put("old", stamp, first)
    assert kept.take("old") is None
    kept = justopened.JustOpened()
    kept.put("huge", stamp._replace(size=justopened.MAX_BYTES + 1), first)
    assert len(kept) == 0
