"""The kernel routes refuse what they must before any kernel starts (in process, no kernel)."""

from __future__ import annotations

from tests.support.inproc import InProcHub


def test_view_tokens_and_bad_requests_are_refused(app: InProcHub) -> None:
    s = app.create_session("refuse.ipynb")
    sid, view, edit = s["id"], s["view_token"], s["edit_token"]
    with app.peer(s, name="ann") as ann:
        cell = ann.insert_cell(len(ann.cells()), "print('no')")
        markdown = ann.insert_cell(0, "# title", cell_type="markdown")
        ann.wait_for(lambda: {cell, markdown} <= {c["id"] for c in app.notebook(s)["cells"]})
    calls = [
        ("POST", "execute", {"cell_id": cell}),
        ("DELETE", "queue/abc", None),
        ("POST", "kernel/interrupt", {}),
        ("POST", "kernel/restart", {}),
        ("POST", "input", {"request_id": "x", "value": "y"}),
    ]
    for method, path, body in calls:
        status, reply = app.api(method, f"/api/sessions/{sid}/{path}", body, token=view)
        assert status == 403 and reply["error"] == "forbidden", (path, reply)
        status, reply = app.api(method, f"/api/sessions/{sid}/{path}", body, token="nope")
        assert status == 401, (path, reply)
        status, reply = app.api(method, f"/api/sessions/missing/{path}", body, token=edit)
        assert status == 401, (path, reply)  # same as a wrong token: ids cannot be probed
    url = f"/api/sessions/{sid}/execute"
    for body, expected in [
        ({"cell_id": "no-such-cell"}, 404),
        ({"cell_id": markdown}, 422),
        ({}, 422),
        ({"cell_ids": []}, 422),
        ({"cell_id": cell, "cell_ids": [cell]}, 422),
        ({"cell_id": 5}, 422),
        ({"cell_id": cell, "by": "me"}, 422),
        ({"cell_ids": [cell, "no-such-cell"]}, 404),
    ]:
        status, reply = app.api("POST", url, body, token=edit)
        assert status == expected and reply["detail"], (body, reply)
    status, reply = app.api("POST", f"/api/sessions/{sid}/input", {"request_id": "x"}, token=edit)
    assert status == 422
    status, reply = app.api(
        "POST", f"/api/sessions/{sid}/input", {"request_id": "x", "value": "y"}, token=edit
    )
    assert status == 409 and reply["error"] == "no_input"
    status, reply = app.api("POST", f"/api/sessions/{sid}/kernel/interrupt", {}, token=edit)
    assert status == 409 and reply["error"] == "no_kernel"  # nothing has started one yet
    with app.peer(s, view, name="v") as viewer:
        assert viewer.state().get("kernel") is None and viewer.cell(cell)["outputs"] == []
