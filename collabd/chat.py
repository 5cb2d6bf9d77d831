"""The session's chat and cell comments: a top-level `chat` array of JSON messages in the shared
document, beside the notebook (never in the `.ipynb`: `notebook.to_json` reads the notebook
schema only).

A message is `{id, by: {name, client_id, verified?, link_id?}, at, text, cell_id?, reply_to?,
resolved?, hidden?}`. The hub writes every message (`POST …/chat`, from editors' and viewers'
pages alike); a page's direct write into the array is repaired (`collabd.chatguard`). Hiding and
resolving replace a message by one with the field set, in one transaction, as the hub. Pure:
no I/O; the rate limit is a clock-driven object the router keeps.
"""

from __future__ import annotations

import secrets
import time
import unicodedata
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Array, Doc

KEY = "chat"
MAX_NAME = 64
MAX_ID = 128
ANONYMOUS = "anonymous"

Message = dict[str, Any]


class ChatError(ValueError):
    """A message the hub will not write: `status` and `code` for the API's error form."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def chat_array(doc: Doc[Any]) -> Array[Any]:
    result: Array[Any] = doc.get(KEY, type=Array)
    return result


def messages(doc: Doc[Any]) -> list[Message]:
    """The messages as JSON, in document order; anything that is not a message (a client may
    write junk) is left out, and a repeated id keeps its last version."""
    found: dict[str, Message] = {}
    for item in chat_array(doc).to_py() or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            found.pop(item["id"], None)
            found[item["id"]] = item
    return list(found.values())


def find(doc: Doc[Any], message_id: str) -> tuple[int, Message] | None:
    """The last element with this id and its index."""
    items = chat_array(doc).to_py() or []
    for index in range(len(items) - 1, -1, -1):
        item = items[index]
        if isinstance(item, dict) and item.get("id") == message_id:
            return index, item
    return None


def new_id() -> str:
    return secrets.token_urlsafe(9)


def clean_name(raw: Any) -> str:
    """A claimed name: a string of at most 64 characters without control characters."""
    if raw is None:
        return ANONYMOUS
    if not isinstance(raw, str) or not raw.strip():
        raise ChatError(422, "bad_request", '"name" must be a non-empty string')
    if len(raw) > MAX_NAME or any(unicodedata.category(c) == "Cc" for c in raw):
        raise ChatError(
            422, "bad_request", f'"name" must be at most {MAX_NAME} characters, none a control one'
        )
    return raw.strip()


def _optional_id(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_ID:
        raise ChatError(422, "bad_request", f'"{key}" must be a non-empty string')
    return value


def compose(
    doc: Doc[Any],
    body: dict[str, Any],
    *,
    verified_name: str | None,
    link_id: str | None,
    max_chars: int,
    now: float | None = None,
) -> Message:
    """The message the hub writes for a request body `{"text", "cell_id"?, "reply_to"?,
    "name"?, "client_id"?}`. With a named link the name is the link's (`verified: true`),
    whatever the body says; otherwise it is the body's claim (`verified: false`)."""

    def lookup(message_id: str) -> Message | None:
        found = find(doc, message_id)
        return found[1] if found else None

    return compose_with(
        lookup,
        body,
        verified_name=verified_name,
        link_id=link_id,
        max_chars=max_chars,
        now=now,
    )


def compose_with(
    lookup: Callable[[str], Message | None],
    body: dict[str, Any],
    *,
    verified_name: str | None,
    link_id: str | None,
    max_chars: int,
    now: float | None = None,
    message_id: str | None = None,
) -> Message:
    """`compose` with the messages a reply may answer given by `lookup`, and the id given
    (a page's own, kept when the hub repairs its direct write) or new."""
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ChatError(422, "bad_request", '"text" must be a non-empty string')
    if len(text) > max_chars:
        raise ChatError(
            413, "too_large", f"a message is at most {max_chars} characters ({len(text)} given)"
        )
    client_id = body.get("client_id")
    if client_id is not None and (type(client_id) is not int or client_id < 0):
        raise ChatError(422, "bad_request", '"client_id" must be a Yjs client id (an integer)')
    by: dict[str, Any]
    if verified_name is not None:
        by = {"name": verified_name, "client_id": client_id, "verified": True}
        if link_id is not None:
            by["link_id"] = link_id
    else:
        by = {"name": clean_name(body.get("name")), "client_id": client_id, "verified": False}
    message: Message = {
        "id": message_id or new_id(),
        "by": by,
        "at": round(time.time() if now is None else now, 3),
        "text": text,
    }
    cell_id, reply_to = _optional_id(body, "cell_id"), _optional_id(body, "reply_to")
    if reply_to is not None:
        parent = lookup(reply_to)
        if parent is None:
            raise ChatError(404, "unknown_message", f"no message {reply_to!r} to reply to")
        # a reply joins its thread: the root's cell, and the root as what it answers
        reply_to = parent.get("reply_to") or reply_to
        if cell_id is None and isinstance(parent.get("cell_id"), str):
            cell_id = parent["cell_id"]
        message["reply_to"] = reply_to
    if cell_id is not None:
        message["cell_id"] = cell_id
    return message


def append(doc: Doc[Any], message: Message) -> None:
    chat_array(doc).append(message)


def update(doc: Doc[Any], message_id: str, edit: Callable[[Message], Message]) -> Message:
    """Replace a message by `edit(message)` at its place (one transaction); ChatError when
    there is no such message."""
    found = find(doc, message_id)
    if found is None:
        raise ChatError(404, "unknown_message", f"no message {message_id!r}")
    index, old = found
    new = edit(dict(old))
    if new != old:
        array = chat_array(doc)
        with doc.transaction(origin="chat"):
            del array[index]
            array.insert(index, new)
    return new


def hidden(message: Message, by: str) -> Message:
    """Hidden by an editor: the text goes from the document (everyone sees the same notice)."""
    return {**message, "text": "", "hidden": True, "hidden_by": by}


def resolved(message: Message, value: bool) -> Message:
    if message.get("reply_to"):
        raise ChatError(422, "not_a_thread", "resolve the thread's first message, not a reply")
    result = {**message, "resolved": value}
    if not value:
        result.pop("resolved")
    return result


def matching(found: list[Message], query: str) -> list[Message]:
    """Messages whose text or sender's name holds `query` (any case); hidden ones never."""
    needle = query.casefold()
    result = []
    for m in found:
        by = m.get("by") if isinstance(m.get("by"), dict) else None
        name = by.get("name") if by is not None else None
        raw = m.get("text")
        text = raw if isinstance(raw, str) else ""
        if m.get("hidden") is True:
            continue
        if needle in text.casefold() or (isinstance(name, str) and needle in name.casefold()):
            result.append(m)
    return result


# comments in the downloaded file

COMMENTS_KEY = "collabd_comments"  # the cell metadata key of `GET …/notebook?comments=1`


def _exported(message: Message) -> dict[str, Any]:
    raw = message.get("by")
    by: dict[str, Any] = raw if isinstance(raw, dict) else {}
    name = by.get("name") if isinstance(by.get("name"), str) else ANONYMOUS
    result: dict[str, Any] = {"id": message["id"], "by": name, "at": message.get("at")}
    if by.get("verified") is True:
        result["verified"] = True
    result["text"] = message.get("text") if isinstance(message.get("text"), str) else ""
    return result


def threads_by_cell(found: list[Message]) -> dict[str, list[dict[str, Any]]]:
    """Each cell's comment threads as the downloaded file carries them: `[{"id", "by" (the
    name), "verified"?, "at", "text", "resolved"?, "replies": [{"id", "by", "verified"?, "at",
    "text"}]}]`, oldest first. Hidden messages are left out, and a thread whose first message
    is hidden with all its replies (they answer what nobody may read)."""
    roots: dict[str, dict[str, Any]] = {}
    cells: dict[str, list[dict[str, Any]]] = {}
    for m in found:
        cell_id = m.get("cell_id")
        if isinstance(cell_id, str) and not m.get("reply_to") and not m.get("hidden"):
            thread = {**_exported(m), "replies": []}
            if m.get("resolved") is True:
                thread["resolved"] = True
            roots[m["id"]] = thread
            cells.setdefault(cell_id, []).append(thread)
    for m in found:
        root = roots.get(m.get("reply_to") or "")
        if root is not None and not m.get("hidden"):
            root["replies"].append(_exported(m))
    return cells


def with_comments(nb: dict[str, Any], found: list[Message]) -> dict[str, Any]:
    """The notebook JSON with each cell's threads in its `metadata.collabd_comments`."""
    by_cell = threads_by_cell(found)
    cells = []
    for cell in nb.get("cells", []):
        threads = by_cell.get(cell.get("id", ""))
        if threads:
            cell = {**cell, "metadata": {**cell.get("metadata", {}), COMMENTS_KEY: threads}}
        cells.append(cell)
    return {**nb, "cells": cells}


# rate limit


def parse_rate(text: str) -> tuple[int, float]:
    """`"10/10"`: at most 10 messages in any 10 seconds."""
    count, _, seconds = text.partition("/")
    try:
        n, window = int(count), float(seconds or "1")
    except ValueError:
        raise ValueError(f"chat rate must be N/SECONDS (like 10/10), got {text!r}") from None
    if n < 1 or window <= 0:
        raise ValueError(f"chat rate must be N/SECONDS with N >= 1, got {text!r}")
    return n, window


@dataclass
class RateLimit:
    """At most `count` messages in any `window` seconds per key (a sliding window)."""

    count: int
    window: float
    clock: Callable[[], float] = time.monotonic
    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def wait(self, key: str) -> float:
        """0 when one more message may go now, else the seconds to wait."""
        now = self.clock()
        sent = self._sent.get(key)
        if sent is None:
            return 0.0
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        if len(sent) >= self.count:
            return max(sent[0] + self.window - now, 0.001)
        return 0.0

    def take(self, key: str) -> float:
        """0 when the message may go (and counts it), else the seconds to wait."""
        wait = self.wait(key)
        if wait:
            return wait
        now = self.clock()
        self._sent.setdefault(key, deque()).append(now)
        if len(self._sent) > 10_000:  # forget quiet keys
            for k in [k for k, v in self._sent.items() if not v or v[-1] <= now - self.window]:
                self._sent.pop(k, None)
        return 0.0
