"""An ipykernel kernel started with no send limit on its iopub socket (pure: a command in, a
command out).

ZMQ queues at most 1000 messages per subscriber by default and drops the rest. A kernel that
floods iopub (a loop moving a slider, a print loop) while the machine is busy then loses the end
of the burst: a widget's last value, the last lines, even the `idle` that ends the run. The hub's
side already has no receive limit; this lifts the kernel's. The kernel's command
`python -m ipykernel_launcher ...` becomes `python -c PRELUDE ...`, which does what the
launcher does (drop the working folder from `sys.path`, start the kernel app) after setting the
limit on the context the iopub socket is made from. Any other command is left as it is.
"""

from __future__ import annotations

PRELUDE = """\
import sys
if sys.path and sys.path[0] == "":
    del sys.path[0]
import zmq
from ipykernel import kernelapp
_init_iopub = getattr(kernelapp.IPKernelApp, "init_iopub", None)
if _init_iopub is not None:
    def init_iopub(self, context):
        context.setsockopt(zmq.SNDHWM, 0)
        _init_iopub(self, context)
    kernelapp.IPKernelApp.init_iopub = init_iopub
kernelapp.launch_new_instance()
"""


def unlimited_iopub(cmd: list[str]) -> list[str]:
    """`cmd` with the launcher replaced by PRELUDE, when it starts ipykernel's launcher."""
    for i in range(len(cmd) - 1):
        if cmd[i] == "-m" and cmd[i + 1] == "ipykernel_launcher":
            return [*cmd[:i], "-c", PRELUDE, *cmd[i + 2 :]]
    return cmd
