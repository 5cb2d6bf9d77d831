"""What the chat guard costs a room: the same stream of cell edits applied by a room without and
with the guard, and a stream of chat messages written directly (each repaired).

    .venv/bin/python bench/chat_guard_bench.py [--edits 20000] [--rounds 7]

Prints the seconds per update of each and the ratios against the unguarded room, measured in
this run (best of --rounds).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pycrdt import Array, Doc, Text

from collabd.chatguard import ChatGuard, Identity
from collabd.sync import protocol
from collabd.sync.room import Role, Room

WHO = Identity("Ann", False, None, frozenset())


def updates(count: int, touch_chat: bool) -> list[bytes]:
    """`count` one-character edits of one client, as frames."""
    doc: Doc[Any] = Doc()
    text = doc.get("t", type=Text)
    chat = doc.get("chat", type=Array)
    frames = []
    for i in range(count):
        before = doc.get_state()
        if touch_chat:
            by = {"name": "Bob", "client_id": 1}
            chat.append({"id": f"m{i}", "by": by, "at": 1.0, "text": "hi"})
        else:
            text.insert(len(text), "x")
        frames.append(protocol.update(doc.get_update(before)))
    return frames


def run(frames: list[bytes], guard: bool) -> float:
    room = Room(Doc())
    if guard:
        room.guards.append(ChatGuard(room.doc, lambda peer: WHO, max_chars=4000))
    room.join(1, Role.EDIT)
    started = time.perf_counter()
    for frame in frames:
        room.receive(1, frame)
    return (time.perf_counter() - started) / len(frames)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--edits", type=int, default=20000)
    p.add_argument("--chat", type=int, default=300)
    p.add_argument("--rounds", type=int, default=7)
    args = p.parse_args()
    edits, chat = updates(args.edits, False), updates(args.chat, True)
    # interleaved rounds, best of each: the machine is shared, its noise hits both alike
    times: dict[str, list[float]] = {"plain": [], "guarded": [], "chat": [], "repaired": []}
    for _ in range(args.rounds):
        times["plain"].append(run(edits, False))
        times["guarded"].append(run(edits, True))
        times["chat"].append(run(chat, False))
        times["repaired"].append(run(chat, True))
    plain, guarded = min(times["plain"]), min(times["guarded"])
    chat_plain, chat_guarded = min(times["chat"]), min(times["repaired"])
    print(f"cell edits, no guard:   {plain * 1e6:8.2f} us/update")
    print(f"cell edits, guard:      {guarded * 1e6:8.2f} us/update  ratio {guarded / plain:.3f}")
    print(f"chat writes, no guard:  {chat_plain * 1e6:8.2f} us/update")
    print(
        f"chat writes, repaired:  {chat_guarded * 1e6:8.2f} us/update  "
        f"ratio {chat_guarded / chat_plain:.1f} ({args.chat} messages in the array at the end)"
    )


if __name__ == "__main__":
    main()
