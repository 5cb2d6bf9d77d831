"""The printed table."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .common import Json, Options


def _get(d: Json, *path: str) -> Any:
    cur: Any = d
    for key in path:
        if not isinstance(cur, dict) or key not in cur:
            return None
        cur = cur[key]
    return cur


Row = tuple[str, list[Any], bool]


def rows(results: dict[str, Json], opt: Options, names: list[str]) -> Iterator[Row]:
    """(label, one value per target in `names`, is-a-ratio-meaningful) per table row."""

    def each(*path: str, f: Callable[[Any], Any] = lambda v: v) -> list[Any]:
        return [f(_get(results.get(name, {}), *path)) for name in names]

    for n in opt.editors:
        e = f"edit{n}"
        yield (f"N={n} latency p50 (ms)", each(e, "p50"), True)
        yield (f"N={n} latency p99 (ms)", each(e, "p99"), True)
        delivered = zip(each(e, "delivered"), each(e, "expected"), strict=True)
        yield (f"N={n} delivered/expected", [_frac(d, x) for d, x in delivered], False)
        yield (f"N={n} server CPU/delivered (us)", each(e, "serverCpuUsPerDelivered"), True)
        yield (f"N={n} server CPU share (%)", each(e, "serverCpuShare", f=_x100), True)
        yield (f"N={n} frames to clients", each(e, "framesIn"), True)
        yield (f"N={n} loadgen CPU share (%)", each(e, "loadgenCpuShare", f=_x100), False)
        yield (f"N={n} loadgen loop delay p99 (ms)", each(e, "loopDelayP99"), False)
        yield (f"N={n} other load on machine (%)", each(e, "otherCpuShare", f=_x100), False)
    cells = opt.sync_cells
    yield (f"sync {cells} cells, warm median (ms)", each("sync", "warmMedian"), True)
    yield (f"sync {cells} cells, cold open (ms)", each("sync", "cold"), True)
    yield (
        f"sync {cells} cells, server CPU per warm sync (ms)",
        each("sync", "serverCpuMsPerWarmSync"),
        True,
    )
    last_kib = _last_kib
    yield (f"sync {cells} cells, bytes to client (KiB)", each("sync", "bytes", f=last_kib), True)
    yield (f"RSS per idle conn, {opt.idle} (KiB)", each("idle", "bytesPerConn", f=_kib), True)
    yield (f"idle conns synced of {opt.idle}", each("idle", "synced"), False)
    idle_cpu = f"server CPU share, {opt.idle} idle conns (%)"
    yield ("server CPU share idle, no conns (%)", each("idle", "cpuShareBefore", f=_x100), True)
    yield (idle_cpu, each("idle", "cpuShareAfter", f=_x100), True)
    lecture = f"lecture {opt.lecture_editors}+{opt.viewers}"
    delivered = zip(each("lecture", "delivered"), each("lecture", "expected"), strict=True)
    yield (f"{lecture} delivered/expected", [_frac(d, x) for d, x in delivered], False)
    yield (f"{lecture} latency p50 (ms)", each("lecture", "p50"), True)
    yield (f"{lecture} latency p99 (ms)", each("lecture", "p99"), True)
    yield (f"{lecture} server CPU/delivered (us)", each("lecture", "serverCpuUsPerDelivered"), True)
    yield (f"{lecture} server CPU share (%)", each("lecture", "serverCpuShare", f=_x100), True)
    yield (f"{lecture} RSS per viewer (KiB)", each("lecture", "bytesPerViewer", f=_kib), True)
    yield (f"{lecture} loadgen loop delay p99 (ms)", each("lecture", "loopDelayP99"), False)
    fresh = f"fresh room: synced of {opt.fresh}, {opt.fresh_tries} rooms"
    yield (fresh, each("fresh", "synced"), False)


def _last_kib(v: Any) -> float | None:
    return v[-1] / 1024 if v else None


def _frac(a: Any, b: Any) -> str | None:
    return None if a is None or b is None else f"{a}/{b}"


def _kib(v: Any) -> float | None:
    return None if v is None else v / 1024


def _x100(v: Any) -> float | None:
    return None if v is None else 100 * v


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 100 else f"{v:.0f}"
    return str(v)


def denominator(names: list[str]) -> str:
    """What the ratio column divides by: pycrdt-websocket if it ran, else Node."""
    return "baseline" if "baseline" in names or "node" not in names else "node"


def table(results: dict[str, Json], opt: Options) -> str:
    """metric | one column per target | collabd / baseline."""
    names = list(results)
    lines = [("metric", *names, "ratio")]
    for label, values, ratio_ok in rows(results, opt, names):
        if all(v is None for v in values):
            continue  # a phase that did not run
        byname = dict(zip(names, values, strict=True))
        c, b = byname.get("collabd"), byname.get(denominator(names))
        ratio = "-"
        if ratio_ok and isinstance(c, int | float) and isinstance(b, int | float) and b:
            ratio = f"{c / b:.2f}x"
        lines.append((label, *map(_fmt, values), ratio))
    widths = [max(len(r[i]) for r in lines) for i in range(len(lines[0]))]
    out = [" | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in lines]
    out.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(out)
