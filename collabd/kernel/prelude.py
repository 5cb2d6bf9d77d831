"""What a local ipykernel runs before its kernel app (pure: a command in, a command out).

The kernel's command `python -m ipykernel_launcher ...` becomes `python -c PRELUDE ...`, which
does what the launcher does (drop the working folder from `sys.path`, start the kernel app)
after two fixes. Any other command is left as it is.

- **No send limit on the iopub socket.** ZMQ queues at most 1000 messages per subscriber by
  default and drops the rest. A kernel that floods iopub (a loop moving a slider, a print loop)
  while the machine is busy then loses the end of the burst: a widget's last value, the last
  lines, even the `idle` that ends the run. The hub's side already has no receive limit; this
  lifts the kernel's, on the context the iopub socket is made from.
- **parso's cache written whole.** Completion goes through jedi, which keeps parsed modules as
  pickles under `~/.cache/jedi`, written in place by parso (0.8). Kernels that complete for
  the first time on a machine at once (a new container, a class starting together) read each
  other's half-written files; jedi's `EOFError` is swallowed by IPython and the completion
  comes back empty. The prelude has parso write each file beside its place and rename it there,
  so a reader finds the whole file or none (and parses the module itself).
"""

from __future__ import annotations

IOPUB_NO_LIMIT = """\
import zmq
from ipykernel import kernelapp
_init_iopub = getattr(kernelapp.IPKernelApp, "init_iopub", None)
if _init_iopub is not None:
    def init_iopub(self, context):
        context.setsockopt(zmq.SNDHWM, 0)
        _init_iopub(self, context)
    kernelapp.IPKernelApp.init_iopub = init_iopub
"""

PARSO_WHOLE_FILES = """\
try:
    from parso import cache as _parso_cache
except ImportError:
    _parso_cache = None
if _parso_cache is not None and hasattr(_parso_cache, "_get_hashed_path"):
    def _save_whole(hashed_grammar, path, item, cache_path=None):
        import os, pickle, tempfile
        target = _parso_cache._get_hashed_path(hashed_grammar, path, cache_path=cache_path)
        fd, part = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(item, f, pickle.HIGHEST_PROTOCOL)
            os.replace(part, target)
        except BaseException:
            os.unlink(part)
            raise
    _parso_cache._save_to_file_system = _save_whole
"""

PRELUDE = (
    """\
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
"""
    + IOPUB_NO_LIMIT
    + PARSO_WHOLE_FILES
    + "kernelapp.launch_new_instance()\n"
)


def with_prelude(cmd: list[str]) -> list[str]:
    """`cmd` with the launcher replaced by PRELUDE, when it starts ipykernel's launcher."""
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            return [*cmd[:i], "-c", PRELUDE, *cmd[i + 2 :]]
    return cmd
