"""The side-by-side table: one row per page, the three servers' figures, and the gateway's
throughput as a fraction of the others' (below 1: the gateway is slower)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figures:
    rate: float  # requests (or exported rows) per second
    rate_text: str
    p50_ms: float
    p99_ms: float


@dataclass(frozen=True)
class Line:
    page: str
    clients: int
    gateway: Figures
    postgraphile: Figures
    floor: Figures


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "—"


def _latency(figures: Figures) -> str:
    return f"{figures.p50_ms:,.1f} / {figures.p99_ms:,.1f}"


def table(lines: list[Line]) -> str:
    head = (
        "| page | clients | gateway | PostGraphile 5 | floor | gateway p50 / p99 ms | PostGraphile p50 / p99 ms "
        "| floor p50 / p99 ms | gateway ÷ PostGraphile | gateway ÷ floor |\n"
        "|---|---|---|---|---|---|---|---|---|---|\n"
    )
    rows = [
        f"| {line.page} | {line.clients} | {line.gateway.rate_text} | {line.postgraphile.rate_text} "
        f"| {line.floor.rate_text} | {_latency(line.gateway)} | {_latency(line.postgraphile)} | {_latency(line.floor)} "
        f"| {_ratio(line.gateway.rate, line.postgraphile.rate)} | {_ratio(line.gateway.rate, line.floor.rate)} |"
        for line in lines
    ]
    return head + "\n".join(rows) + "\n"
