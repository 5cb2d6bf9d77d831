"""What the hub needs of a connected participant: a way to send bytes and to close."""

from __future__ import annotations

from typing import Protocol


class Peer(Protocol):
    id: int

    def send(self, data: bytes) -> None:
        """Queue one binary frame; never blocks, never awaits."""

    def close(self, code: int, reason: str) -> None:
        """End the connection with a close code the client can read."""
