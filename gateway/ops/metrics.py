"""The gateway's Prometheus metrics, served at ``/metrics`` (see ``gateway.transport.ops``).

The metric objects are made once, unregistered; each app gathers them into a registry of its
own together with what it reads at scrape time (pool use, feed lag), so that several apps in one
process (the tests) never register a name twice. Operation names are the caller's text: they are
cut to a safe alphabet and, past ``MAX_OPERATIONS`` distinct names, counted as ``other``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from typing import Any, TypeVar, cast

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.registry import Collector

MAX_OPERATIONS = 500
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")
_seen: set[str] = set()
_seen_lock = threading.Lock()

REQUESTS = Counter(
    "gateway_requests",
    "GraphQL requests by operation name, role and outcome",
    ["operation", "role", "outcome"],
    registry=None,
)
REQUEST_SECONDS = Histogram(
    "gateway_request_duration_seconds",
    "HTTP request latency by route, method and status class",
    ["route", "method", "status"],
    registry=None,
)
OPERATION_COST = Histogram(
    "gateway_operation_cost",
    "Estimated cost of each operation admitted (see gateway.pipeline.cost)",
    ["role"],
    buckets=(1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 50000, float("inf")),
    registry=None,
)
AUDIT_APPEND_SECONDS = Histogram(
    "gateway_audit_append_duration_seconds",
    "Time to append one record to the audit trail",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, float("inf")),
    registry=None,
)
RATE_LIMITED = Counter(
    "gateway_rate_limited",
    "Operations refused over a rate limit, by whose limit (token, agency) and which (requests, cost)",
    ["limit", "kind"],
    registry=None,
)

ALL: tuple[Collector, ...] = (REQUESTS, REQUEST_SECONDS, OPERATION_COST, AUDIT_APPEND_SECONDS, RATE_LIMITED)


def operation_label(name: str | None) -> str:
    """An operation's name as a label value: ``-`` for none, ``other`` past the cap."""
    if not name:
        return "-"
    label = _UNSAFE.sub("_", name)[:64]
    # An operation name is the caller's text: one holding six digits or more (an ID number or a
    # phone typed into it, even split by separators) keeps none of them, as in the access log.
    if sum(ch.isdigit() for ch in label) > 5:
        label = re.sub(r"\d", "#", label)
    with _seen_lock:
        if label in _seen:
            return label
        if len(_seen) >= MAX_OPERATIONS:
            return "other"
        _seen.add(label)
    return label


_Metric = TypeVar("_Metric", Counter, Histogram)
_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def labelled(metric: _Metric, *values: str) -> _Metric:
    """``metric.labels(*values)``, kept: a request's label values are few and recur, and
    prometheus_client checks them and takes a lock on every call (a few microseconds a request)."""
    key = (id(metric), values)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*values)
    return cast(_Metric, child)


def registry_with(collectors: Iterable[Collector]) -> CollectorRegistry:
    """A registry holding the gateway's metrics and ``collectors`` (read at scrape time)."""
    registry = CollectorRegistry(auto_describe=True)
    for collector in (*ALL, *collectors):
        registry.register(collector)
    return registry
