"""A local ipykernel starts with no send limit on its iopub socket, so a flood on a busy
machine is not cut (its end, `idle` included, dropped by ZMQ past 1000 queued messages); and
with parso writing its completion cache whole, so kernels that complete for the first time
together never read a half-written file (and get no completions). A real hub and kernel: the
kernel reports its own socket's limit, and what a reader would find while parso writes."""

from __future__ import annotations

import pytest

from collabd.client import NotebookClient
from collabd.kernel.prelude import PRELUDE, with_prelude
from tests.support.hubproc import HubProcess
from tests.support.kernel import new_cells, wait_finished

pytestmark = pytest.mark.kernel


def test_only_ipykernels_launcher_is_replaced() -> None:
    cmd = ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "/run/k.json"]
    assert with_prelude(cmd) == ["/env/bin/python", "-c", PRELUDE, "-f", "/run/k.json"]
    other = ["R", "--slave", "-e", "IRkernel::main()", "--args", "/run/k.json"]
    assert with_prelude(other) == other


async def test_the_kernels_iopub_socket_has_no_send_limit(khub: HubProcess) -> None:
    s = khub.create_session("hwm.ipynb")
    code = (
        "import sys, zmq\n"
        "from ipykernel.kernelapp import IPKernelApp\n"
        "print(IPKernelApp.instance().iopub_thread.socket.getsockopt(zmq.SNDHWM))\n"
        "print(sys.path[0] != '')"
    )
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        (cell,) = await new_cells(ann, code)
        await ann.run(cell)
        await wait_finished(ann, cell)
        assert ann.output_text(cell) == "0\nTrue\n"


# In the kernel: parso saves a module's parse into a new cache folder while a stand-in for
# pickle.dump notes whether a reader would find a file at the module's cache path right then
# (a file there is read, and a half-written one fails); afterwards the whole file loads.
PARSO_CHECK = """\
import os, pathlib, pickle, tempfile, time
import parso
from parso import cache
grammar = parso.load_grammar()
folder = pathlib.Path(tempfile.mkdtemp())
source = os.path.join(folder, "mod.py")
with open(source, "w") as f:
    f.write("shared_value_xyz = 41\\n")
module = grammar.parse(path=source, cache=False)
target = cache._get_hashed_path(grammar._hashed, source, cache_path=folder)
found_while_writing = []
real_dump = pickle.dump
def dump(obj, file, *args):
    found_while_writing.append(os.path.exists(target))
    real_dump(obj, file, *args)
pickle.dump = dump
try:
    item = cache._NodeCacheItem(module, [], time.time())
    cache._save_to_file_system(grammar._hashed, source, item, cache_path=folder)
finally:
    pickle.dump = real_dump
cache.parser_cache.clear()
loaded = cache._load_from_file_system(grammar._hashed, source, 0, cache_path=folder)
same = loaded.get_code() == module.get_code()
print(found_while_writing, same, os.listdir(os.path.dirname(target)))
"""


async def test_parso_writes_its_cache_files_whole(khub: HubProcess) -> None:
    s = khub.create_session("parso.ipynb")
    async with NotebookClient.from_link(s["edit_url"], name="ann") as ann:
        (cell,) = await new_cells(ann, PARSO_CHECK)
        await ann.run(cell)
        await wait_finished(ann, cell)
        text = ann.output_text(cell)
        assert text.startswith("[False] True "), text  # nothing there until it is whole
        assert ".part" not in text  # and nothing left beside it
