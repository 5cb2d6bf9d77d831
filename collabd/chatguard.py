"""The hub is the only author of the `chat` array: what a page writes there directly is repaired.

pycrdt applies an update before anyone can look inside it, so the guard watches the array (a Yjs
observer, called only for transactions that touch it) and, right after a participant's update
did, compares that change with the array the hub had accepted:

- a new message (an id not there before) stays, rewritten as the hub would have written it for
  that connection: the named link's (or signed-in user's) verified name, else the name in the
  connection's presence (`verified: false`); `by.corrected: true` when the page had written
  another name. Elements that are not messages, too long, answer no message or go over
  CHAT_RATE (per connection) are removed;
- an accepted message that was changed or deleted is put back as it was (hiding and resolving
  are the hub's endpoints).

The repair is one hub transaction published in the same batch as the participant's update, so
it is stored with it and other participants receive both merged (they never see the forgery).
An update that does not touch `chat` costs two method calls (bench/chat_guard_bench.py). Pure:
no I/O.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Array, ArrayEvent, Doc

from collabd import chat
from collabd.extension import Extension, RoomLoad
from collabd.sync import presence

ORIGIN = "chat"
MAX_NEW = 20  # messages one update may add (a page that was offline may bring a few)

Edit = Callable[[Doc[Any]], None]


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a connection is, as the hub knows it."""

    name: str
    verified: bool
    link_id: str | None = None
    client_ids: frozenset[int] = frozenset()
    user: str | None = None  # a signed-in user (their name is `name`, verified)


def _message_id(item: Any) -> str | None:
    found = item.get("id") if isinstance(item, dict) else None
    return found if isinstance(found, str) else None


def rewritten(
    item: Any,
    who: Identity,
    lookup: Callable[[str], chat.Message | None],
    *,
    max_chars: int,
    now: float,
) -> chat.Message | None:
    """A new element as the hub writes it for `who`, or None when it is not a message."""
    message_id = _message_id(item)
    if message_id is None or not message_id or len(message_id) > chat.MAX_ID:
        return None
    by = item.get("by") if isinstance(item.get("by"), dict) else {}
    claimed_id = by.get("client_id")
    # a JSON number: Yjs client ids above 2**53 come back as floats
    if isinstance(claimed_id, int | float) and claimed_id in who.client_ids:
        client_id: int | None = int(claimed_id)
    else:
        client_id = min(who.client_ids) if who.client_ids else None
    body = {k: item.get(k) for k in ("text", "cell_id", "reply_to")}
    body.update(name=who.name, client_id=client_id)
    try:
        message = chat.compose_with(
            lookup,
            body,
            verified_name=who.name if who.verified else None,
            link_id=who.link_id,
            max_chars=max_chars,
            now=now,
            message_id=message_id,
            user=who.user,
        )
    except chat.ChatError:
        return None
    if by.get("name") != message["by"]["name"]:
        message["by"]["corrected"] = True
    return message


Op = tuple[int, int, list[Any]]  # at this index: delete this many, then insert these


def applied(old: list[Any], delta: list[dict[str, Any]]) -> list[Any]:
    """The array after a change given as a Yjs delta (retain, delete, insert)."""
    result: list[Any] = []
    i = 0
    for step in delta:
        if "retain" in step:
            result.extend(old[i : i + step["retain"]])
            i += step["retain"]
        elif "delete" in step:
            i += step["delete"]
        else:
            result.extend(step.get("insert", []))
    result.extend(old[i:])
    return result


def plan(
    old: list[Any],
    delta: list[dict[str, Any]],
    who: Identity,
    *,
    max_chars: int,
    now: float,
    allow: Callable[[], bool] = lambda: True,
) -> list[Op]:
    """The repair of one participant's change (`delta` on the array that was `old`): what it
    deleted is put back where it was, what it inserted is rewritten for `who` or removed (also
    when `allow`, asked once per new message, says no: the rate limit).
    Each op's index is in the array as the ops before it left it."""
    known: dict[str, chat.Message] = {}
    for item in old:
        if (message_id := _message_id(item)) is not None:
            known[message_id] = item
    ops: list[Op] = []
    pos = i = added = 0
    for step in delta:
        if "retain" in step:
            pos += step["retain"]
            i += step["retain"]
        elif "delete" in step:
            gone = old[i : i + step["delete"]]
            i += len(gone)
            ops.append((pos, 0, gone))
            pos += len(gone)
        else:
            for item in step.get("insert", []):
                message = None
                if added < MAX_NEW and _message_id(item) not in known:  # else an edit
                    message = rewritten(item, who, known.get, max_chars=max_chars, now=now)
                if message is None or not allow():
                    ops.append((pos, 1, []))
                    continue
                known[message["id"]] = message
                added += 1
                if message != item:
                    ops.append((pos, 1, [message]))
                pos += 1
    return ops


def carry_out(doc: Doc[Any], ops: list[Op]) -> None:
    array = chat.chat_array(doc)
    with doc.transaction(origin=ORIGIN):
        for index, delete, items in ops:
            if delete:
                del array[index : index + delete]
            for offset, item in enumerate(items):
                array.insert(index + offset, item)


class ChatGuard:
    """A room's update guard (`Room.guards`) for the `chat` array. It keeps a copy of the array,
    kept current from each change's delta, so a repair costs what the change touched (plus one
    pass over the ids), never a conversion of the whole array."""

    def __init__(
        self,
        doc: Doc[Any],
        identify: Callable[[int], Identity],
        *,
        max_chars: int,
        rate: chat.RateLimit | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._array: Array[Any] = chat.chat_array(doc)
        self._rate = rate  # CHAT_RATE per connection, as `POST …/chat` has per person
        self._identify = identify
        self._max_chars = max_chars
        self._clock = clock
        self._mirror: list[Any] = self._array.to_py() or []
        self._peer_changes: list[tuple[list[Any], list[dict[str, Any]]]] = []
        self._watching = False
        self._subscription = self._array.observe(self._on_change)
        self.repairs = 0  # how many updates needed one (for tests and logs)
        self.origin = ORIGIN

    def _on_change(self, event: ArrayEvent) -> None:
        delta: list[dict[str, Any]] = event.delta  # type: ignore[attr-defined]  # untyped in pycrdt
        old, self._mirror = self._mirror, applied(self._mirror, delta)
        if self._watching:
            self._peer_changes.append((old, delta))

    def before(self) -> None:
        """A participant's update is about to be applied: watch what it does to the chat."""
        self._peer_changes = []
        self._watching = True

    def after(self, peer: int) -> Edit | None:
        """After `peer`'s update: the hub's repair, when it touched the chat."""
        self._watching = False
        if not self._peer_changes:
            return None
        changes, self._peer_changes = self._peer_changes, []
        if len(changes) == 1:  # one update is one transaction: one event
            old, delta = changes[0]
            rate = self._rate
            ops = plan(
                old,
                delta,
                self._identify(peer),
                max_chars=self._max_chars,
                now=self._clock(),
                allow=(lambda: rate.take(f"peer:{peer}") == 0) if rate else lambda: True,
            )
        else:  # not expected: put everything back as it was
            ops = [(0, len(self._mirror), changes[0][0])]
        if not ops:
            return None
        self.repairs += 1
        return lambda doc: carry_out(doc, ops)


def identity_of(joined: dict[str, Any], states: list[dict[str, Any]], ids: set[int]) -> Identity:
    """A connection's identity: how it joined (`LiveRoom.joined`), and its presence states."""
    name, link = joined.get("link_name"), joined.get("link")
    if isinstance(name, str) and name:
        return Identity(name, True, link if isinstance(link, str) else None, frozenset(ids))
    signed = joined.get("user")
    if isinstance(signed, str) and signed:  # signed in: the hub vouches for the name
        return Identity(signed, True, None, frozenset(ids), user=signed)
    for state in states:
        user = state.get("user")
        claim = user.get("name") if isinstance(user, dict) else None
        if presence.name_ok(claim) and isinstance(claim, str) and claim.strip():
            return Identity(claim.strip(), False, None, frozenset(ids))
    return Identity(chat.ANONYMOUS, False, None, frozenset(ids))


class ChatGuardExtension(Extension):
    """Puts a `ChatGuard` on every room as it loads."""

    async def on_load(self, load: RoomLoad) -> None:
        live = load.live

        def identify(peer: int) -> Identity:
            ids = live.room.client_ids(peer)
            states = live.room.presence()
            return identity_of(live.joined(peer), [states[i] for i in ids if i in states], ids)

        count, window = chat.parse_rate(live.settings.chat_rate)
        guard = ChatGuard(
            live.doc,
            identify,
            max_chars=live.settings.chat_max_chars,
            rate=chat.RateLimit(count, window),
        )
        live.room.guards.append(guard)
