"""Where sessions, the update log and snapshots live: one interface, several backends."""

from .base import LogEntry, NewEntry, SessionRecord, Snapshot, Store
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = [
    "LogEntry",
    "MemoryStore",
    "NewEntry",
    "SQLiteStore",
    "SessionRecord",
    "Snapshot",
    "Store",
]
