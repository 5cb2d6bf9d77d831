"""Three-way text merge, pure: apply what changed from `base` to `theirs` onto `ours`.

Used when the .ipynb is changed on disk while people type in the same cell: the outside edit is
replayed on the live text at the places it touched, so neither side's typing is lost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `length` characters of `ours` at `index` with `text`."""

    index: int
    length: int
    text: str


def merge(base: str, ours: str, theirs: str) -> list[TextEdit]:
    """Edits to make to `ours`, in descending index order (apply them one after another)."""
    if theirs == base:
        return []
    ours_map = SequenceMatcher(None, base, ours, autojunk=False).get_opcodes()
    edits = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, base, theirs, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        start = _to_ours(ours_map, i1)
        end = max(start, _to_ours(ours_map, i2))
        edits.append(TextEdit(start, end - start, theirs[j1:j2]))
    return sorted(edits, key=lambda e: e.index, reverse=True)


def _to_ours(opcodes: Sequence[tuple[str, int, int, int, int]], i: int) -> int:
    """Where base position `i` is in ours; inside a region ours changed, its start."""
    for tag, i1, i2, j1, _j2 in opcodes:
        if tag == "equal" and i1 <= i <= i2:
            return j1 + (i - i1)
        if i1 <= i <= i2:
            return j1
    return opcodes[-1][4] if opcodes else 0
