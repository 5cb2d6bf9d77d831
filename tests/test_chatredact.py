"""Blanking a hidden message's text in Yjs bytes: updates written by yrs stay valid, only that
message's text changes, and other objects (or text in cells) that look alike are left alone."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, Text

from collabd import chat
from collabd.chatredact import redact


def test_only_the_hidden_messages_text_is_blanked_and_the_update_applies() -> None:
    doc: Doc[Any] = Doc()
    before = doc.get_state()
    doc.get("source", type=Text).insert(0, "secret ünïcode text")  # same words in a cell
    chat.chat_array(doc).extend(
        [
            {
                "id": "h1",
                "by": {"name": "Ann", "client_id": 5},
                "at": 1.5,
                "text": "secret ünïcode text",
                "n": [1, None, True],
            },
            {"id": "k1", "text": "secret ünïcode text", "by": {"name": "h1"}},
            {"text": "h1", "id": "k2"},
        ]
    )
    update = doc.get_update(before)
    blanked = redact(update, frozenset({"h1", "absent"}))
    assert len(blanked) == len(update) and blanked != update
    copy: Doc[Any] = Doc()
    copy.apply_update(blanked)
    found = chat.chat_array(copy).to_py()
    assert found[0]["text"] == " " * len("secret ünïcode text".encode())
    assert {k: v for k, v in found[0].items() if k != "text"} == {
        k: v for k, v in chat.chat_array(doc).to_py()[0].items() if k != "text"
    }
    assert found[1:] == chat.chat_array(doc).to_py()[1:]
    assert str(copy.get("source", type=Text)) == "secret ünïcode text"
    assert redact(update, frozenset()) == update
