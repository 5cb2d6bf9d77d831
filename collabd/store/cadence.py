"""The snapshot cadence, pure: when a room writes a snapshot of its whole document.

A room is rebuilt from its newest snapshot plus the log after it, and a seek in the recording
replays at most that many updates, so a snapshot is due once `every` updates were logged since
the newest one. A failed snapshot leaves the count as it was: the next batch tries again.
"""

from __future__ import annotations


class SnapshotCadence:
    def __init__(self, every: int, since_snapshot: int = 0) -> None:
        self.every = every
        self.since_snapshot = since_snapshot  # updates logged after the newest snapshot

    def due(self, adding: int) -> bool:
        """Whether the batch about to be logged, with `adding` updates, ends with a snapshot."""
        return self.since_snapshot + adding >= self.every

    def logged(self, updates: int) -> None:
        self.since_snapshot += updates

    def taken(self) -> None:
        self.since_snapshot = 0
