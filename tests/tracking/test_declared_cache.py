"""The declared parameters asked before every run are scanned again only when they may have
changed, and are never stale (pure: a pycrdt document, no hub)."""

from __future__ import annotations

from typing import Any

import nbformat
import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Array, Map, Text

from collabd.kernel import docstate
from collabd.tracking import tracker


def notebook_doc() -> Any:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(f"x{i} = {i}") for i in range(6)]
    nb.cells[1].metadata["tags"] = ["parameters"]
    ynb = YNotebook()
    ynb.set(nb)
    return ynb.ydoc


def test_scanned_again_only_after_a_change_that_can_alter_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    doc = notebook_doc()
    cells = doc.get("cells", type=Array)
    scans: list[int] = []
    real = tracker.scan_declared
    monkeypatch.setattr(tracker, "scan_declared", lambda d: scans.append(1) or real(d))
    cache = tracker.DeclaredCache(doc)

    def check(rescanned: bool, names: tuple[str, ...]) -> None:
        before = len(scans)
        got = cache.get()
        assert got == real(doc)[0] and got.names == names  # never stale
        assert len(scans) == before + rescanned

    check(True, ("x1",))
    # what every run writes: outputs, counts, states, last_run, the queue; an untagged source
    for i in range(3):
        with doc.transaction():
            docstate.set_last_run(doc, cells[4]["id"], {"ended": i})
            docstate.set_cell_state(doc, cells[4]["id"], "idle")
            cells[4]["execution_count"] = i
            cells[4]["outputs"] = Array([{"output_type": "stream", "name": "stdout"}])
        source: Text = cells[3]["source"]
        source.insert(len(source), " + 1")
        check(False, ("x1",))
    tagged: Text = cells[1]["source"]
    tagged.insert(len(tagged), "\nalpha = 0.5")  # the parameters cell's source
    check(True, ("x1", "alpha"))
    check(False, ("x1", "alpha"))
    cells[5]["metadata"]["tags"] = ["injected-parameters"]  # another cell tagged
    check(True, ("x1", "alpha", "x5"))
    del cells[0]  # cells removed (the tagged ones move up)
    check(True, ("x1", "alpha", "x5"))
    cells[0]["metadata"] = Map({})  # the parameters cell's metadata replaced: untagged
    check(True, ("x5",))
    cells.insert(
        0,
        Map(
            {
                "id": "new",
                "cell_type": "code",
                "source": Text("beta = 2"),
                "metadata": Map({"tags": ["parameters"]}),
                "outputs": Array(),
            }
        ),
    )
    check(True, ("beta", "x5"))
