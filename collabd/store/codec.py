"""How snapshot state is kept in a store: zstd-compressed, with a marker per row.

A snapshot is the whole document as one Yjs update, which compresses well (the text of the
cells and the repeated keys of the schema): 3-6x at level 3. Each stored snapshot says how it
was written (`codec`: 0 the raw update, as older versions wrote them, 1 zstd), so old
rows read as they are and nothing needs rewriting.
"""

from __future__ import annotations

import zstandard

RAW = 0
ZSTD = 1
LEVEL = 3  # ~100 MB/s in, 3-6x smaller; higher levels cost more than the bytes they save


def pack(state: bytes) -> tuple[int, bytes]:
    """(codec, stored bytes) for a snapshot's state."""
    # A compressor per call: they are cheap to make, and one is not safe across threads.
    packed = zstandard.ZstdCompressor(level=LEVEL).compress(state)
    return (ZSTD, packed) if len(packed) < len(state) else (RAW, state)


def unpack(codec: int, stored: bytes) -> bytes:
    """The state a stored snapshot holds."""
    if codec == RAW:
        return bytes(stored)
    if codec == ZSTD:
        return zstandard.ZstdDecompressor().decompress(stored)
    raise ValueError(f"snapshot stored with unknown codec {codec}: written by a newer collabd?")
