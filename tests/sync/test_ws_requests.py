"""Requests on the document's websocket (runs): what is refused, and how (in process, no kernel).

A refused or malformed request gets an answer that says why, to its sender only, with the
status and error code the same request over HTTP gets; the connection stays, and nobody else's
document or connection is touched.
"""

from __future__ import annotations

import json
from typing import Any

from collabd.sync import protocol
from tests.support.inproc import InProcHub, Peer


def ask(peer: Peer, body: bytes | dict[str, Any]) -> dict[str, Any]:
    """Send one request frame and wait for its answer."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    before = len(peer.answers)
    peer.send(protocol.request(raw))
    peer.wait_for(lambda: len(peer.answers) > before)
    assert len(peer.answers) == before + 1
    return peer.answers[-1]


def test_refused_and_malformed_requests_are_answered_and_change_nothing(app: InProcHub) -> None:
    s = app.create_session("asks.ipynb")
    with app.peer(s, name="ann") as ann, app.peer(s, s["view_token"], name="viv") as viv:
        code = ann.insert_cell(len(ann.cells()), "print('no')")
        markdown = ann.insert_cell(0, "# title", cell_type="markdown")
        viv.wait_for(lambda: {code, markdown} <= set(viv.cell_ids()))
        before = ann.cells()

        refused = ask(viv, {"id": 1, "op": "execute", "cell_id": code})
        assert refused == {
            "id": 1,
            "ok": False,
            "status": 403,
            "error": "forbidden",
            "detail": "a view link cannot change anything",
        }
        for body, status, error in [
            (b"not json", 400, "bad_request"),
            (b"[1, 2]", 400, "bad_request"),
            (b"\xff\xfe", 400, "bad_request"),
            ({"op": "execute", "cell_id": code}, 400, "bad_request"),  # no id
            ({"id": -1, "op": "execute", "cell_id": code}, 400, "bad_request"),
            ({"id": 2, "cell_id": code}, 400, "bad_request"),  # no op
            ({"id": 3, "op": "format_disk"}, 404, "unknown_op"),
            ({"id": 4, "op": "execute"}, 422, "bad_request"),
            ({"id": 5, "op": "execute", "cell_id": 7}, 422, "bad_request"),
            ({"id": 6, "op": "execute", "cell_ids": []}, 422, "bad_request"),
            ({"id": 7, "op": "execute", "cell_id": code, "by": "me"}, 422, "bad_request"),
            ({"id": 8, "op": "execute", "cell_id": "no-such-cell"}, 404, "unknown_cell"),
            ({"id": 9, "op": "execute", "cell_id": markdown}, 422, "not_code"),
            ({"id": 10, "op": "execute", "cell_ids": [code, "gone"]}, 404, "unknown_cell"),
        ]:
            answer = ask(ann, body)
            assert (answer["ok"], answer["status"], answer["error"]) == (False, status, error), (
                body,
                answer,
            )
            assert answer["detail"], answer
            said = body.get("id", -1) if isinstance(body, dict) else -1
            assert answer["id"] == (said if said >= 0 else None), answer  # echoed if valid

        # Answers go to their sender only; both are still connected and in step; nothing ran.
        assert len(viv.answers) == 1
        ann.insert_text(code, 0, "# still here\n")
        viv.wait_for(lambda: viv.source(code).startswith("# still here"))
        assert ann.close is None and viv.close is None
        assert [c["id"] for c in ann.cells()] == [c["id"] for c in before]
        assert ann.state().get("queue", []) == [] and ann.cell(code)["outputs"] == []
