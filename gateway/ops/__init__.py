"""Operations: Prometheus metrics, OpenTelemetry traces, and the shared rate-limit storage."""

from __future__ import annotations

from gateway.ops.limiter import Limiter, limiter_for
from gateway.ops.metrics import (
    AUDIT_APPEND_SECONDS,
    OPERATION_COST,
    RATE_LIMITED,
    REQUEST_SECONDS,
    REQUESTS,
    labelled,
    operation_label,
    registry_with,
)
from gateway.ops.tracing import Tracing, tracer

__all__ = [
    "AUDIT_APPEND_SECONDS",
    "OPERATION_COST",
    "RATE_LIMITED",
    "REQUESTS",
    "REQUEST_SECONDS",
    "Limiter",
    "Tracing",
    "labelled",
    "limiter_for",
    "operation_label",
    "registry_with",
    "tracer",
]
