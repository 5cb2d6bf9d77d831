"""Small pure pieces: paths, settings, tokens, rate limits, notebook merging."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Doc

from collabd import auth, notebook, paths
from collabd.disk.merge import merge_outside
from collabd.settings import Settings
from collabd.store import SessionRecord
from collabd.sync.limits import TokenBucket


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


def test_settings_from_environment() -> None:
    s = Settings().with_env(
        {
            "COLLABD_MAX_MESSAGE_BYTES": "10",
            "COLLABD_RECORD": "off",
            "COLLABD_ALLOWED_ORIGINS": "https://a, https://b",
        }
    )
    assert s.max_message_bytes == 10 and s.record is False
    assert s.allowed_origins == ("https://a", "https://b")
    with pytest.raises(ValueError, match="COLLABD_RATE_BURST"):
        Settings().with_env({"COLLABD_RATE_BURST": "lots"})


def test_tokens_are_long_random_and_roles_are_exact() -> None:
    tokens = {auth.new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 43 for t in tokens)  # 256 bits
    record = SessionRecord("s", "a.ipynb", "edit-token", "view-token", 0.0)
    assert auth.access_for("edit-token", record, "admin") is auth.Access.EDIT
    assert auth.access_for("view-token", record, "admin") is auth.Access.VIEW
    assert auth.access_for("admin", record, "admin") is auth.Access.ADMIN
    for wrong in ["", None, "edit-toke", "edit-token ", "view-token2"]:
        assert auth.access_for(wrong, record, "admin") is None


def test_token_bucket_allows_bursts_then_the_rate() -> None:
    bucket = TokenBucket(rate=2, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.take(0.5) and not bucket.take(0.5)


def _doc_with(cells: list[Any]) -> Doc[Any]:
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, notebook.parse_ipynb(nbformat.writes(nb)))
    return doc


def test_merge_outside_keeps_concurrent_typing_in_the_same_cell() -> None:
    doc = _doc_with([nbformat.v4.new_code_cell("line one\nline two")])
    base = notebook.to_json(doc)  # what the hub last wrote to disk
    outside = copy.deepcopy(base)
    outside["cells"][0]["source"] = "line one\nline 2\nline three"
    ycell = notebook.cells(doc)[0]
    ycell["source"].insert(0, "# mine 🙂\n")  # typed live meanwhile
    merge_outside(doc, outside, base)
    assert notebook.cell_source(ycell) == "# mine 🙂\nline one\nline 2\nline three"


def test_merge_outside_keeps_cells_added_live() -> None:
    doc = _doc_with([nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")])
    base = notebook.to_json(doc)
    ynb = YNotebook(doc)
    ynb.ycells.insert(1, ynb.create_ycell({"cell_type": "code", "source": "live", "metadata": {}}))
    outside = copy.deepcopy(base)
    outside["cells"].append(dict(nbformat.v4.new_markdown_cell("disk")))
    del outside["cells"][0]
    merge_outside(doc, outside, base)
    assert [c["source"] for c in notebook.to_json(doc)["cells"]] == ["live", "b", "disk"]


def test_merge_outside_adds_removes_and_reorders_cells() -> None:
    a, b, c = (nbformat.v4.new_code_cell(x) for x in "abc")
    doc = _doc_with([a, b, c])
    outside = notebook.to_json(doc)
    outside["cells"] = [
        outside["cells"][2],
        outside["cells"][0],
        dict(nbformat.v4.new_markdown_cell("new")),
    ]
    merge_outside(doc, outside)
    merged = notebook.to_json(doc)
    assert [x["source"] for x in merged["cells"]] == ["c", "a", "new"]
    assert [x["id"] for x in merged["cells"][:2]] == [
        outside["cells"][0]["id"],
        outside["cells"][1]["id"],
    ]


def test_old_notebooks_get_cell_ids() -> None:
    nb = nbformat.v4.new_notebook()
    nb.nbformat_minor = 4
    nb.cells = [nbformat.v4.new_code_cell("x")]
    del nb.cells[0]["id"]
    parsed = notebook.parse_ipynb(nbformat.writes(nb))
    assert parsed["cells"][0]["id"] and parsed["nbformat_minor"] == 5


def _apply(text: str, edits: list[Any]) -> str:
    for e in edits:
        text = text[: e.index] + e.text + text[e.index + e.length :]
    return text


@pytest.mark.parametrize(
    ("base", "ours", "theirs", "merged"),
    [
        ("abc", "abc", "abXc", "abXc"),  # only theirs changed
        ("abc", "Zabc", "abc", "Zabc"),  # only ours changed
        ("one two three", "ONE two three", "one two 3", "ONE two 3"),  # both, apart
        ("x = 1\n", "# mine\nx = 1\n", "x = 2\n", "# mine\nx = 2\n"),
        ("abc", "abc!", "", "!"),  # theirs cleared it; ours' addition stays
    ],
)
def test_three_way_text_merge(base: str, ours: str, theirs: str, merged: str) -> None:
    from collabd.disk.textmerge import merge

    assert _apply(ours, merge(base, ours, theirs)) == merged


def test_duplicate_cell_ids_get_distinct_ids_in_the_file_only() -> None:
    doc = _doc_with([nbformat.v4.new_code_cell("a"), nbformat.v4.new_code_cell("b")])
    ycells = notebook.cells(doc)
    ycells[1]["id"] = ycells[0]["id"]  # as a buggy client could
    before = doc.get_state()
    nb = notebook.to_json(doc)
    assert len({c["id"] for c in nb["cells"]}) == 2
    assert doc.get_state() == before  # the shared document itself was not touched
