"""collabd.disk.textmerge: three-way merge of one cell's text."""

from __future__ import annotations

from typing import Any

import pytest

from collabd.disk.textmerge import merge


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
    assert _apply(ours, merge(base, ours, theirs)) == merged
