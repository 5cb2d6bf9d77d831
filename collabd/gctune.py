"""The cyclic garbage collector, set up for a long-running hub.

CPython's collector walks every tracked object of the generations it collects, and a full
collection walks them all: in a hub that is the whole framework (uvicorn, Starlette,
jupyter_client, nbformat and its schemas) besides the rooms. Loading a 1,000-cell notebook
allocates enough objects to set off full collections, which took ~60 ms of the event loop's
time on top of the ~40 ms the import itself needs (`bench/README.md`, round two).
What exists once the hub has started stays for the process's life, so it is moved out of the
collector's sight (`gc.freeze`); what rooms, connections and runs make later is collected as
usual.
"""

from __future__ import annotations

import gc

# CPython's default first threshold (700 allocations) runs a young collection every few
# hundred objects: ~150 of them while a 1,000-cell notebook loads, each also walking what the
# load keeps. Few of the hub's objects are in cycles (frames and tasks, mostly); collecting
# the young generation every 20,000 allocations costs little memory and much less time.
YOUNG_EVERY = 20_000


def settle() -> None:
    """Call once the hub has started: collect start-up's garbage, then freeze the rest."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_EVERY, older, oldest)
