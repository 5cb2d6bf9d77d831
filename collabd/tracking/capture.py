"""Reading metrics and parameter values in the kernel, through the Jupyter protocol (pure).

The first run in a kernel carries one entry in its `execute_request` `user_expressions`: the
kernel evaluates it after the code, in the user's namespace, and returns its value in the
`execute_reply` — nothing is printed, no output appears, nothing is added to the namespace and
the execution count does not move. (ipykernel evaluates user expressions only after code that
succeeded; after an error the hub may send the same entry once with an empty, silent
`execute_request`, still holding the kernel.)

The expression runs a small function defined in a module of its own (`exec` of its source
into a fresh module, kept in `sys.modules` under a name with the source's hash so a kernel
compiles it once; its imports and names never reach the user's namespace); the function catches
everything and then answers `"{}"`. It returns JSON text:
`{"metrics": {name: float}, "params": {name: value}, "hook": bool}` — the metrics being the
user's globals whose names match the session's patterns and whose values are numeric scalars
(int, float, numpy scalars, 0-d numpy/torch/jax arrays; never bool; finite only), and the
params the current values of the declared parameters as plain JSON.

In an IPython kernel the module also registers a `post_run_cell` hook (`"hook": true`). From
then on a run carries no user expression: what to capture goes in the request's `metadata`
(`ask`), the hook captures right after the code (after an error too) and puts the JSON in the
reply's `payload`, as `{"source": "collabd_tracking", "data": ...}`; frontends ignore payload
sources they do not know. A user expression costs the kernel its compilation and IPython's
display formatting on every run (~0.5 ms, `bench/README.md`); the hook costs the capture only.
A kernel that is not IPython keeps answering the expression, then without the module's source
once the module is there (`installed`).
"""

from __future__ import annotations

import ast
import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from collabd.tracking import patterns

KEY = "collabd_tracking"
MAX_METRICS = 200

# Runs in the kernel, in a namespace of its own. Keep it quick: it runs after every cell.
SOURCE = r"""
def capture(g, exact, suffixes, prefixes, pattern, names):
    try:
        import json, math, numbers, re
        arrays = ("numpy", "torch", "jax", "jaxlib", "cupy", "tensorflow")

        def number(v):
            if isinstance(v, bool):
                return None
            if isinstance(v, numbers.Real):
                f = float(v)
            elif (type(v).__module__.split(".")[0] in arrays
                    and getattr(v, "ndim", None) == 0 and hasattr(v, "item")):
                x = v.item()
                if isinstance(x, bool) or not isinstance(x, (int, float)):
                    return None
                f = float(x)
            else:
                return None
            return f if math.isfinite(f) else None

        def plain(v, depth=0):
            if v is None or isinstance(v, bool):
                return v
            if isinstance(v, str):
                return v if len(v) <= 500 else v[:500] + "\u2026"
            if isinstance(v, numbers.Integral):
                return int(v)
            f = number(v)
            if f is not None:
                return f
            if isinstance(v, numbers.Real):
                return repr(float(v))
            if depth < 3 and isinstance(v, (list, tuple)) and len(v) <= 50:
                return [plain(x, depth + 1) for x in v]
            if (depth < 3 and isinstance(v, dict) and len(v) <= 50
                    and all(isinstance(k, str) for k in v)):
                return {k: plain(x, depth + 1) for k, x in v.items()}
            return "<" + type(v).__name__ + ">"

        metrics = {}
        if exact or suffixes or prefixes or pattern:
            exact = frozenset(exact)
            match = re.compile(pattern, re.I).fullmatch if pattern else None
            for k, v in list(g.items()):
                if not isinstance(k, str) or k[:1] == "_":
                    continue
                low = k.lower()
                if (low in exact or (suffixes and low.endswith(suffixes))
                        or (prefixes and low.startswith(prefixes)) or (match and match(k))):
                    f = number(v)
                    if f is not None:
                        metrics[k] = f
                        if len(metrics) >= MAX_METRICS:
                            break
        params = {}
        for k in names:
            if k in g:
                try:
                    params[k] = plain(g[k])
                except Exception:
                    params[k] = "<" + type(g[k]).__name__ + ">"
        return json.dumps({"metrics": metrics, "params": params, "hook": HOOKED})
    except Exception:
        return "{}"


def _collabd_capture_hook(result):
    # after every cell; captures only for a request whose metadata asks (the hub's runs)
    try:
        ip = get_ipython()
        parent = getattr(ip, "parent_header", None) or {}
        ask = (parent.get("metadata") or {}).get("KEY")
        if isinstance(ask, dict):
            text = capture(ip.user_ns, ask.get("exact") or (), tuple(ask.get("suffixes") or ()),
                           tuple(ask.get("prefixes") or ()), ask.get("pattern") or "",
                           ask.get("names") or ())
            ip.payload_manager.write_payload({"source": "KEY", "data": text})
    except Exception:
        pass


def _hook_in():
    global get_ipython
    try:
        from IPython import get_ipython
        ip = get_ipython()
        if ip is None or not hasattr(ip, "payload_manager"):
            return False
        callbacks = ip.events.callbacks["post_run_cell"]
        # one hook, this version's: an earlier copy (another hub version's) goes
        callbacks[:] = [c for c in callbacks
                        if getattr(c, "__name__", "") != "_collabd_capture_hook"]
        ip.events.register("post_run_cell", _collabd_capture_hook)
        return True
    except Exception:
        return False


HOOKED = _hook_in()
""".replace("MAX_METRICS", str(MAX_METRICS)).replace('"KEY"', repr(KEY))


MODULE = "_collabd_capture_" + hashlib.sha256(SOURCE.encode()).hexdigest()[:12]
# the module holding `capture`, made the first time (exec of SOURCE into a new module)
_MODULE_EXPR = (
    f"(__import__('sys').modules.get({MODULE!r}) or (lambda m: (exec({SOURCE!r}, m.__dict__), "
    f"__import__('sys').modules.__setitem__({MODULE!r}, m), m)[2])"
    f"(__import__('types').ModuleType({MODULE!r})))"
)
# the module once a capture in this kernel worked: the kernel compiles every expression it is
# sent, and compiling SOURCE with each run costs it ~0.3 ms (`bench/README.md`)
_INSTALLED_EXPR = f"__import__('sys').modules[{MODULE!r}]"


def expression(
    metric_patterns: Sequence[str], param_names: Sequence[str], *, installed: bool = False
) -> str:
    """The user expression that captures the metrics whose names match `metric_patterns` (see
    `collabd.tracking.patterns`) and the values of `param_names`. `installed`: the kernel has
    the capture's module already (a capture in it worked), so the expression does not carry
    its source; without the module it fails, and the kernel answers an error for it."""
    module = _INSTALLED_EXPR if installed else _MODULE_EXPR
    arguments = ", ".join(map(repr, _arguments(metric_patterns, param_names)))
    return f"{module}.capture(globals(), {arguments})"


def ask(metric_patterns: Sequence[str], param_names: Sequence[str]) -> dict[str, Any]:
    """The request metadata that has the hook capture the same as `expression` would."""
    return {KEY: dict(zip(_ASKED, _arguments(metric_patterns, param_names), strict=True))}


_ASKED = ("exact", "suffixes", "prefixes", "pattern", "names")  # as the hook reads them


def _arguments(
    metric_patterns: Sequence[str], param_names: Sequence[str]
) -> tuple[list[str], tuple[str, ...], tuple[str, ...], str, list[str]]:
    """`capture`'s arguments after the namespace, the same in the expression and the ask."""
    exact, suffixes, prefixes, rest = patterns.split(metric_patterns)
    return sorted(exact), suffixes, prefixes, rest, [n for n in param_names if n.isidentifier()]


def user_expressions(
    metric_patterns: Sequence[str], param_names: Sequence[str], *, installed: bool = False
) -> dict[str, str]:
    return {KEY: expression(metric_patterns, param_names, installed=installed)}


@dataclass(frozen=True, slots=True)
class Captured:
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    hooked: bool = False  # the kernel's module has its hook in: the next runs `ask` it


def parse_reply(user_expressions: Any) -> Captured | None:
    """What the kernel answered for the entry (an `execute_reply`'s `user_expressions`); None
    when it did not (the code failed, the kernel is not Python, the expression failed)."""
    if not isinstance(user_expressions, dict):
        return None
    entry = user_expressions.get(KEY)
    if not isinstance(entry, dict) or entry.get("status") != "ok":
        return None
    data = entry.get("data")
    text = data.get("text/plain") if isinstance(data, dict) else None
    if not isinstance(text, str):
        return None
    try:
        raw = ast.literal_eval(text)  # the repr of the str the expression returned
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    return _parsed(raw) if isinstance(raw, str) else None


def from_reply(reply: Any) -> Captured | None:
    """What the kernel answered in an `execute_reply`'s content: the hook's payload (the last,
    should a cell have run cells itself), else the user expression's value; None if neither."""
    if not isinstance(reply, dict):
        return None
    payload = reply.get("payload")
    ours = [
        p["data"]
        for p in (payload if isinstance(payload, list) else ())
        if isinstance(p, dict) and p.get("source") == KEY and isinstance(p.get("data"), str)
    ]
    if ours:
        return _parsed(ours[-1])
    return parse_reply(reply.get("user_expressions"))


def _parsed(text: str) -> Captured | None:
    try:
        value = json.loads(text)
    except (ValueError, TypeError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    metrics_in, params_in = value.get("metrics"), value.get("params")
    metrics = {
        k: float(v)
        for k, v in (metrics_in.items() if isinstance(metrics_in, dict) else ())
        if isinstance(k, str)
        and k.isidentifier()
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
    }
    params = {
        k: v
        for k, v in (params_in.items() if isinstance(params_in, dict) else ())
        if isinstance(k, str) and k.isidentifier()
    }
    hooked = value.get("hook") is True
    return Captured(dict(list(metrics.items())[:MAX_METRICS]), params, hooked)
