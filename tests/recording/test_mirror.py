"""The content mirror: every update's operations, replayed on plain JSON, give what the CRDT
gives, through cells added, removed and moved, text in any script, outputs, metadata, widgets."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

import pytest
from jupyter_ydoc import YNotebook
from pycrdt import Array, Doc

from collabd import notebook
from collabd.recording import mirror, reader
from tests.support.nbedits import random_edit


@pytest.mark.parametrize("seed", range(8))
def test_operations_replayed_on_json_give_what_the_crdt_gives(seed: int) -> None:
    rng = random.Random(seed)
    source: Doc[Any] = Doc()
    ynb = YNotebook(source)
    notebook.load_into(source, notebook.empty_notebook())
    # the index's own document gets the updates as the log has them, and records their effect
    copy_doc: Doc[Any] = Doc()
    recorder = mirror.Recorder(copy_doc)
    roots = mirror.roots_of(copy_doc)
    updates: list[bytes] = []
    source.observe(lambda event: updates.append(event.update))
    copy_doc.apply_update(source.get_update())
    mirror.apply(roots, recorder.take())
    for step in range(300):
        with source.transaction():
            for _ in range(rng.choice([1, 1, 1, 2, 5])):  # several changes in one update too
                random_edit(ynb, rng)
        for update in updates:
            copy_doc.apply_update(update)
        updates.clear()
        mirror.apply(roots, recorder.take())
        assert roots == mirror.roots_of(copy_doc), f"step {step}"
    expected = reader.notebook_of(copy_doc)
    assert mirror.notebook_from(copy.deepcopy(roots)) == expected
    assert expected["cells"], "the history leaves cells to compare"


def test_operations_survive_json_and_apply_again() -> None:
    """A block stores operations as JSON and every seek applies them to a fresh checkpoint:
    applying must not share their values with the content it builds."""
    doc: Doc[Any] = Doc()
    recorder = mirror.Recorder(doc)
    ynb = YNotebook(doc)
    before = mirror.roots_of(doc)
    with doc.transaction():
        doc.get("cells", type=Array).append(
            ynb.create_ycell({"cell_type": "code", "source": "a", "metadata": {}, "outputs": []})
        )
    with doc.transaction():
        doc.get("cells", type=Array)[0]["metadata"]["k"] = 1
    ops = json.loads(mirror.dumps(recorder.take()))
    first, second = copy.deepcopy(before), copy.deepcopy(before)
    mirror.apply(first, ops)
    first["cells"][0]["metadata"]["k"] = 2  # a change to one result...
    mirror.apply(second, ops)
    assert second == mirror.roots_of(doc)  # ...is not in the next
    assert second["cells"][0]["metadata"] == {"k": 1}


def test_a_text_operation_past_the_end_is_an_error_not_a_wrong_notebook() -> None:
    roots = {"cells": [{"source": "ab"}], "meta": {}, "widgets": {}}
    with pytest.raises(ValueError):
        mirror.apply(roots, [["t", ["cells", 0, "source"], [5, "x"]]])
    with pytest.raises(ValueError):
        mirror.apply(roots, [["a", ["cells"], [-3]]])
