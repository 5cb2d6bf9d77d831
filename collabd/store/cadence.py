"""The snapshot cadence, pure: when a room writes a snapshot of its whole document.

A room is rebuilt from its newest snapshot plus the log after it, and a seek in the recording
replays the updates after the snapshot before it. Two rules, whichever comes first:

- bytes: once the updates logged since the newest snapshot add up to `BYTES_FACTOR` times that
  snapshot's size (as stored, compressed), a new one is due. Snapshots then take at most
  1/`BYTES_FACTOR` of the room the log takes (storage stays under 1.8x the update data however
  large the document grows), and the updates a seek replays cost about what applying the
  snapshot costs;
- count: `every` updates since the newest snapshot, at most, whatever the sizes: the upper bound
  on the updates a load or a seek replays.

The bytes rule waits for at least `MIN_BYTES` of log, so a small document is not snapshotted
every few keystrokes, and applies only once a snapshot exists (its size is the measure).
A failed snapshot leaves the counts as they were: the next batch tries again.
"""

from __future__ import annotations

MIN_BYTES = 16 * 1024
BYTES_FACTOR = 1.25


class SnapshotCadence:
    def __init__(
        self,
        every: int,
        since_snapshot: int = 0,
        *,
        since_bytes: int = 0,
        snapshot_bytes: int = 0,
    ) -> None:
        self.every = every
        self.since_snapshot = since_snapshot  # updates logged after the newest snapshot
        self.since_bytes = since_bytes  # their bytes
        self.snapshot_bytes = snapshot_bytes  # the newest snapshot's stored size (0: none)

    def due(self, adding: int, adding_bytes: int = 0) -> bool:
        """Whether the batch about to be logged, `adding` updates of `adding_bytes` in all, ends
        with a snapshot."""
        if self.since_snapshot + adding >= self.every:
            return True
        if not self.snapshot_bytes:
            return False
        due_at = max(BYTES_FACTOR * self.snapshot_bytes, MIN_BYTES)
        return self.since_bytes + adding_bytes >= due_at

    def logged(self, updates: int, nbytes: int = 0) -> None:
        self.since_snapshot += updates
        self.since_bytes += nbytes

    def taken(self, stored_bytes: int = 0) -> None:
        """A snapshot was stored, taking `stored_bytes`."""
        self.since_snapshot = 0
        self.since_bytes = 0
        self.snapshot_bytes = stored_bytes
