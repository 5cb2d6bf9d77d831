"""The file of appends not yet in SQLite: one `write` per flush on the hub's hot path.

A SQLite commit of one row writes four WAL frames (the table, `sqlite_sequence` and two indexes:
~8 `pwrite` and 6 `fcntl` calls), which after an idle gap, as between keystrokes, costs ~0.3 ms
here; one `write` of the same entries ~0.08 ms. So the hub writes a flush's entries here first,
with the sequence numbers it gives them, sends them on, and a store thread moves them into the
log table in batches (`SQLiteStore`). A written record survives the hub being killed, as a
committed SQLite transaction in WAL mode with synchronous=NORMAL does; only a power loss may
take the last ones, and a record cut short is never read (each has its length and a CRC).

One process holds the file (an exclusive `flock` for as long as it is open); a store that cannot
take it appends to SQLite directly. The records that a holder that died left are moved into the
log by the next one to take it (those after the last sequence number the log says were moved).

Record: length and CRC-32 of the body (`<II`), then the body: sequence number, time, the lengths
of room, kind and origin (`<qdHHH`), those three in UTF-8, and the entry's data.
"""

from __future__ import annotations

import fcntl
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .base import NewEntry

_HEAD = struct.Struct("<II")
_BODY = struct.Struct("<qdHHH")


@dataclass(frozen=True, slots=True)
class Record:
    seq: int
    room: str
    entry: NewEntry


def encode(first_seq: int, room: str, entries: Sequence[NewEntry]) -> bytes:
    """The records of `entries`, numbered from `first_seq`, as one write."""
    name = room.encode()
    parts: list[bytes] = []
    for i, e in enumerate(entries):
        kind, origin = e.kind.encode(), e.origin.encode()
        body = b"".join(
            (
                _BODY.pack(first_seq + i, e.ts, len(name), len(kind), len(origin)),
                name,
                kind,
                origin,
                e.data,
            )
        )
        parts += (_HEAD.pack(len(body), zlib.crc32(body)), body)
    return b"".join(parts)


def decode(data: bytes) -> Iterator[Record]:
    """The whole records at the start of `data`, up to the first one cut short or damaged."""
    at, end = 0, len(data)
    while at + _HEAD.size <= end:
        size, crc = _HEAD.unpack_from(data, at)
        body = data[at + _HEAD.size : at + _HEAD.size + size]
        if len(body) < _BODY.size or len(body) != size or zlib.crc32(body) != crc:
            return
        seq, ts, n_room, n_kind, n_origin = _BODY.unpack_from(body)
        texts = _BODY.size + n_room + n_kind + n_origin
        if texts > size:
            return
        room = body[_BODY.size : _BODY.size + n_room].decode()
        kind = body[_BODY.size + n_room : _BODY.size + n_room + n_kind].decode()
        origin = body[_BODY.size + n_room + n_kind : texts].decode()
        yield Record(seq, room, NewEntry(ts, kind, origin, bytes(body[texts:])))
        at += _HEAD.size + size


class Journal:
    """The open file, held by this process alone."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        self.size = os.fstat(fd).st_size

    @classmethod
    def claim(cls, path: Path) -> Journal | None:
        """Open and lock the file; None when another store holds it."""
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return cls(path, fd)

    def read(self) -> list[Record]:
        return list(decode(os.pread(self._fd, self.size, 0)))

    def write(self, data: bytes) -> None:
        """Append `data` whole, or leave the file as it was and raise (a disk that is full)."""
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except BaseException:
            os.ftruncate(self._fd, self.size)  # no part-record for the next ones to follow
            raise
        self.size += len(data)

    def clear(self) -> None:
        os.ftruncate(self._fd, 0)
        self.size = 0

    def close(self, *, remove: bool) -> None:
        if remove:
            self.path.unlink(missing_ok=True)  # while still locked: no other store took it
        os.close(self._fd)
