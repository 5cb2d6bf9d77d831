"""The room's compact presence (`presence.States`) keeps what pycrdt's `Awareness` keeps: the same
states after the same updates (clock rules included), encoded so a client decodes the same."""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Awareness, Doc

from collabd.sync import presence
from collabd.sync.presence import ClientState

ADA = {"user": {"name": "Adà", "color": "#30bced"}, "cursor": None}
BOB = {"user": {"name": "bob"}, "cell": "c1"}


def entry(client_id: int, clock: int, state: dict[str, Any] | None) -> ClientState:
    text = json.dumps(state, separators=(", ", ": "), ensure_ascii=False)  # not canonical
    return ClientState(client_id, clock, text)


def reference() -> Awareness:
    awareness = Awareness(Doc())
    awareness.set_local_state(None)  # as the hub's room had it
    return awareness


def decoded(update: bytes) -> dict[int, Any]:
    client = reference()
    client.apply_awareness_update(update, "test")
    return dict(client.states)


STEPS: list[list[ClientState]] = [
    [entry(11, 1, ADA)],
    [entry(22, 3, BOB)],
    [entry(11, 1, BOB)],  # same clock, a state: ignored
    [entry(11, 0, BOB)],  # older clock: ignored
    [entry(11, 2, BOB), entry(22, 3, None)],  # newer; equal clock removing: applies
    [entry(22, 3, ADA)],  # back with the clock it left with: ignored
    [entry(22, 4, ADA)],  # back with a newer clock
    [entry(33, 1, None)],  # removing a state nobody had
]


def test_states_follow_the_awareness_rules_step_by_step() -> None:
    ours, theirs = presence.States(), reference()
    for step in STEPS:
        ours.apply(step)
        theirs.apply_awareness_update(presence.encode(step), "peer")
        assert ours.decoded() == theirs.states
        ids = list(theirs.states)
        assert ours.ids() == ids
        assert ours.encode(ids) == theirs.encode_awareness_update(ids)


def test_removed_states_encode_as_null_with_their_clock() -> None:
    ours, theirs = presence.States(), reference()
    for step in STEPS[:2]:
        ours.apply(step)
        theirs.apply_awareness_update(presence.encode(step), "peer")
    ours.remove([11, 22])
    theirs.remove_awareness_states([11, 22], "peer")
    assert ours.encode([11, 22]) == theirs.encode_awareness_update([11, 22])
    assert 11 not in ours and ours.decoded() == {}


def test_a_client_decodes_what_a_late_joiner_is_sent() -> None:
    ours = presence.States()
    ours.apply([entry(11, 1, ADA), entry(22, 1, BOB)])
    assert decoded(ours.encode(ours.ids())) == {11: ADA, 22: BOB}
