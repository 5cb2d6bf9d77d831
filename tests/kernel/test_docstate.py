"""The execution state in the shared document, pure."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from pycrdt import Doc

from collabd import notebook
from collabd.kernel import docstate


def make_doc() -> Doc[Any]:
    nb = notebook.empty_notebook()
    nb["cells"][0]["id"] = "c"
    doc: Doc[Any] = Doc()
    notebook.load_into(doc, nb)
    return doc


def test_kernel_status_transitions() -> None:
    path = [None, "starting", "idle", "busy", "busy", "idle", "dead", "restarting", "idle"]
    assert all(docstate.may_follow(a, b) for a, b in itertools.pairwise(path))
    assert not docstate.may_follow("idle", "starting")
    assert not docstate.may_follow("starting", "busy")
    with pytest.raises(ValueError):
        docstate.set_kernel(make_doc(), "sleeping", "python3")


def test_reset_clears_what_a_previous_process_left() -> None:
    doc = make_doc()
    with doc.transaction():
        docstate.set_kernel(doc, "busy", "python3")
        docstate.set_input_request(doc, {"request_id": "r"})
        docstate.set_cell_state(doc, "c", "running")
        docstate.set_last_run(doc, "c", {"status": "ok"})
        notebook.state(doc)["queue"] = [{"request_id": "r"}]
    with doc.transaction():
        docstate.reset(doc, 123.0)
    state = notebook.state(doc).to_py() or {}
    assert state["queue"] == [] and state["input_request"] is None
    assert state["kernel"]["status"] == "dead" and "restarted" in state["kernel"]["reason"]
    # the run that was going on is marked as cut off, with the reason, on its cell
    cell = notebook.to_json(doc)["cells"][0]
    last_run = cell["metadata"]["collabd"]["last_run"]
    assert last_run["status"] == "cancelled" and last_run["ended"] == 123.0
    assert last_run["reason"] == state["kernel"]["reason"] == docstate.LOST
    assert state["last_event"]["kind"] == "kernel_lost"
    assert notebook.cells(doc)[0]["execution_state"] == "idle"
