"""Prometheus metrics (`GET /metrics`): what an operator watches, counted where it happens.

Counters and histograms live in this module's registry and are updated on the hot paths once per
batch, not per peer. Gauges (sessions, rooms, connections, queues, kernels) are read from the
hub when scraped, so they can never drift from the truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)
_LATENCY = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

UPDATES_IN = Counter(
    "collabd_updates_in",
    "Document updates received (participants, kernel, disk)",
    ["origin"],
    registry=REGISTRY,
)
_UPDATES_IN_BY: dict[str, Any] = {}  # label -> its child: `labels()` takes a lock each call


def update_in(origin: str) -> None:
    """Count one update received from `origin` (`peer:3` counts as `peer`)."""
    kind = origin.partition(":")[0]
    child = _UPDATES_IN_BY.get(kind)
    if child is None:
        child = _UPDATES_IN_BY.setdefault(kind, UPDATES_IN.labels(kind))
    child.inc()


FRAMES_OUT = Counter(
    "collabd_frames_out", "Frames sent to peers (one per receiver)", registry=REGISTRY
)
FANOUT_SECONDS = Histogram(
    "collabd_fanout_seconds",
    "From an update's arrival to its broadcast (queue + store write)",
    buckets=_LATENCY,
    registry=REGISTRY,
)
STORE_WRITE_SECONDS = Histogram(
    "collabd_store_write_seconds",
    "One group-committed append to the store",
    buckets=_LATENCY,
    registry=REGISTRY,
)
RELAY_LAG_SECONDS = Histogram(
    "collabd_relay_lag_seconds",
    "Age of a relay entry when the receiving hub reads it",
    ["direction"],
    buckets=_LATENCY,
    registry=REGISTRY,
)
RUNS = Counter("collabd_runs", "Runs that ended, by status", ["status"], registry=REGISTRY)

Gauges = Callable[[], dict[str, Any]]


class HubCollector(Collector):
    """Gauges read from a hub at scrape time (`gauges` returns the hub's numbers)."""

    def __init__(self, gauges: Gauges) -> None:
        self._gauges = gauges

    def collect(self) -> Iterable[Metric]:
        g = self._gauges()
        yield _gauge("collabd_sessions", "Sessions in the store", g["sessions"])
        yield _gauge("collabd_rooms_loaded", "Rooms loaded on this hub", g["rooms"])
        yield _labelled("collabd_connections", "Connections by role", "role", g["connections"])
        yield _gauge("collabd_queue_length", "Run requests waiting, all sessions", g["queued"])
        yield _labelled("collabd_kernels", "Kernels by status", "status", g["kernels"])

    def describe(self) -> Iterable[Metric]:
        return []


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _labelled(name: str, doc: str, label: str, values: dict[str, float]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=[label])
    for key, value in sorted(values.items()):
        family.add_metric([key], value)
    return family


def exposition(hub_gauges: Gauges | None) -> bytes:
    """The text format: this module's counters, and a hub's gauges read now."""
    text = generate_latest(REGISTRY)
    if hub_gauges is not None:
        scrape = CollectorRegistry(auto_describe=False)
        scrape.register(HubCollector(hub_gauges))
        text += generate_latest(scrape)
    return text
