"""The side-by-side table: one row per page, the three servers' figures, and the gateway's
throughput as a fraction of the others' (below 1: the gateway is slower). When the run measured
the federated gateway, three more columns: its figures on the pages it served, and its throughput
as a fraction of the single gateway's (below 1: the router hop's cost)."""

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
    router: Figures | None = None  # the gateway's request through its role's router, when measured


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "—"


def _latency(figures: Figures) -> str:
    return f"{figures.p50_ms:,.1f} / {figures.p99_ms:,.1f}"


def table(lines: list[Line]) -> str:
    routed = any(line.router is not None for line in lines)
    head = (
        "| page | clients | gateway | PostGraphile 5 | floor | gateway p50 / p99 ms | PostGraphile p50 / p99 ms "
        "| floor p50 / p99 ms | gateway ÷ PostGraphile | gateway ÷ floor |"
    )
    rule = "|---|---|---|---|---|---|---|---|---|---|"
    if routed:
        head += " gateway via router | via router p50 / p99 ms | via router ÷ gateway |"
        rule += "---|---|---|"
    rows = []
    for line in lines:
        row = (
            f"| {line.page} | {line.clients} | {line.gateway.rate_text} | {line.postgraphile.rate_text} "
            f"| {line.floor.rate_text} | {_latency(line.gateway)} | {_latency(line.postgraphile)} "
            f"| {_latency(line.floor)} | {_ratio(line.gateway.rate, line.postgraphile.rate)} "
            f"| {_ratio(line.gateway.rate, line.floor.rate)} |"
        )
        if routed and line.router is None:
            row += " — | — | — |"
        elif line.router is not None:
            row += (
                f" {line.router.rate_text} | {_latency(line.router)} | {_ratio(line.router.rate, line.gateway.rate)} |"
            )
        rows.append(row)
    return head + "\n" + rule + "\n" + "\n".join(rows) + "\n"
