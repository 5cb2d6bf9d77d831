"""Bad input over the websocket, against the app in process: a clear close code for the sender
before any document data, and no harm to anyone else."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from collabd.sync import protocol
from collabd.sync.wire import Close
from tests.support.inproc import AppFactory, InProcHub, Peer, receive, until_closed

LIMITS = {"max_message_bytes": 100_000, "rate_messages_per_s": 5.0, "rate_burst": 20}


@pytest.fixture
def limited(app_factory: AppFactory) -> InProcHub:
    return app_factory(**LIMITS)


def close_of(
    app: InProcHub, session_id: str, token: str | None, send: list[Any] = (), **kw: Any
) -> tuple[int, str, list[Any]]:  # type: ignore[assignment]
    """Connect, send frames, and return the close code, reason and every frame received."""
    with app.websocket(session_id, token, **kw) as ws:
        for frame in send:
            if isinstance(frame, str):
                ws.send_text(frame)
            else:
                ws.send_bytes(frame)
        return until_closed(ws)


@pytest.mark.parametrize("token", [None, "wrong", ""])
def test_bad_tokens_are_refused_before_any_data(limited: InProcHub, token: str | None) -> None:
    s = limited.create_session("tok.ipynb")
    got, reason, frames = close_of(limited, s["id"], token)
    assert (got, frames) == (Close.UNAUTHORIZED, []) and reason


def test_a_token_of_another_session_is_refused(limited: InProcHub) -> None:
    a = limited.create_session("a1.ipynb")
    b = limited.create_session("b1.ipynb")
    assert close_of(limited, b["id"], a["edit_token"])[::2] == (Close.UNAUTHORIZED, [])
    assert close_of(limited, b["id"], a["view_token"])[::2] == (Close.UNAUTHORIZED, [])


def test_unknown_session_is_4404(limited: InProcHub) -> None:
    # only the admin token learns that a session does not exist (finding 11); others get 4401
    assert close_of(limited, "nope", limited.token)[::2] == (Close.NOT_FOUND, [])
    assert close_of(limited, "nope", "x")[::2] == (Close.UNAUTHORIZED, [])


def test_foreign_browser_origin_is_refused(limited: InProcHub) -> None:
    s = limited.create_session("origin.ipynb")
    got, _, frames = close_of(limited, s["id"], s["edit_token"], origin="http://evil.example")
    assert (got, frames) == (Close.FORBIDDEN, [])
    # the page's own origin is fine
    with limited.websocket(s["id"], s["edit_token"], origin="http://testserver") as ws:
        first = receive(ws)
        assert protocol.parse(first["bytes"]).kind is protocol.Kind.SYNC_STEP1


def test_allowed_origins_are_let_in(app_factory: AppFactory) -> None:
    app = app_factory(allowed_origins=("https://notebooks.example",))
    s = app.create_session("allowed.ipynb")
    with app.websocket(s["id"], s["view_token"], origin="https://notebooks.example") as ws:
        assert protocol.parse(receive(ws)["bytes"]).kind is protocol.Kind.SYNC_STEP1
    assert close_of(app, s["id"], s["view_token"], origin="https://other.example")[0] == 4403


def test_a_full_session_refuses_one_more(app_factory: AppFactory) -> None:
    app = app_factory(max_participants=2, max_viewers=1)
    s = app.create_session("full.ipynb")
    with app.peer(s, name="one"), app.peer(s, name="two"):
        got, reason, frames = close_of(app, s["id"], s["edit_token"])
        assert (got, frames) == (Close.FULL, []) and "full" in reason
        with app.peer(s, s["view_token"], name="viewer"):  # viewers have their own seats
            got, reason, frames = close_of(app, s["id"], s["view_token"])
            assert (got, frames) == (Close.FULL, []) and "full" in reason
    with app.peer(s, name="three") as three:  # room again once they left
        assert three.synced


def test_a_room_that_cannot_load_closes_with_1011(app: InProcHub) -> None:
    s = app.create_session("broken.ipynb")
    (app.root / "broken.ipynb").write_text("{ not a notebook")  # before its first load
    got, reason, frames = close_of(app, s["id"], s["edit_token"])
    assert (got, frames) == (Close.UNAVAILABLE, []) and "could not be loaded" in reason


def still_works(app: InProcHub, s: dict[str, Any], bystander: Peer) -> None:
    cell = bystander.cell_ids()[0]
    bystander.insert_text(cell, 0, "still fine")
    with app.peer(s, s["view_token"], name="late") as other:
        other.wait_for(lambda: other.source(cell).startswith("still fine"))
    assert bystander.close is None


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        ([b"\x00\x02\x09ab"], Close.BAD_FRAME),  # length prefix past the end
        ([b"\x07"], Close.BAD_FRAME),  # unknown message type
        (["a text frame"], Close.BAD_FRAME),
        ([protocol.update(b"\x05\xff\xff\xff\x0f")], Close.BAD_UPDATE),  # pycrdt cannot apply it
        ([b"\x01" + b"\x00" * 200_000], Close.TOO_BIG),  # over the size limit
        ([protocol.awareness(b"\x00")] * 100, Close.RATE),  # over the rate limit
    ],
    ids=["malformed", "unknown-type", "text", "bad-update", "too-big", "rate"],
)
def test_bad_frames_close_only_the_sender(limited: InProcHub, frames: list[Any], code: int) -> None:
    s = limited.create_session("bad.ipynb")
    with limited.peer(s, name="bystander") as good:
        got, reason, _ = close_of(limited, s["id"], s["edit_token"], send=frames)
        assert got == code and reason
        still_works(limited, s, good)


def test_view_token_changes_are_refused_and_never_stored(limited: InProcHub) -> None:
    s = limited.create_session("view.ipynb")
    with (
        limited.peer(s, name="editor") as editor,
        limited.peer(s, s["view_token"], name="viewer") as viewer,
    ):
        cell = viewer.cell_ids()[0]
        viewer.insert_text(cell, 0, "sneaky")
        viewer.insert_cell(0, "also sneaky")
        viewer.wait_for(lambda: len(viewer.denied) >= 2)
        assert "view-only" in viewer.denied[0]
        editor.insert_text(cell, 0, "legit")
        viewer.wait_for(lambda: "legit" in viewer.source(cell))
        assert editor.source(cell) == "legit" and len(editor.cells()) == 1
    with limited.peer(s, s["view_token"], name="fresh") as fresh:
        assert fresh.source(cell) == "legit" and len(fresh.cells()) == 1
    assert "sneaky" not in str(limited.notebook(s))


def test_a_hub_under_a_base_path_serves_its_websockets_there(app_factory: AppFactory) -> None:
    # behind JupyterHub (/services/collabd) or a proxy's path: /ws/ goes straight to the room
    # (DirectJoin) under the prefix too, and not outside it
    app = app_factory(base_path="collab")
    made = app.client.post(
        "/collab/api/sessions",
        json={"path": "prefixed.ipynb"},
        headers={"Authorization": f"Bearer {app.token}"},
    )
    s = made.json()
    with app.client.websocket_connect(f"/collab/ws/{s['id']}?token={s['edit_token']}") as ws:
        first = receive(ws)
        assert protocol.parse(first["bytes"]).kind is protocol.Kind.SYNC_STEP1
    with (
        pytest.raises(WebSocketDisconnect),
        app.client.websocket_connect(f"/ws/{s['id']}?token={s['edit_token']}") as ws,
    ):
        receive(ws)
