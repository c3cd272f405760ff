"""The export: 10,000 residents fetched by one client in pages of 100, following the cursor;
the time for the whole export is what counts."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.compare.processes import BenchError
from bench.compare.scenarios import Identities, export_call, export_page

ROWS = 10_000


@dataclass(frozen=True)
class Export:
    seconds: float  # median of the runs, for the whole export
    page_p50_ms: float
    page_p99_ms: float
    ids: list[int]
    names: list[str]

    @property
    def rows_per_second(self) -> float:
        return len(self.ids) / self.seconds if self.seconds else 0.0


def send(client: httpx.Client, base: str, method: str, path: str, body: str | None, headers: dict[str, str]) -> Any:
    response = client.request(method, base + path, content=body, headers=headers)
    answer = response.json()
    if response.status_code != 200 or "errors" in answer:
        raise BenchError(f"{base}{path} answered {response.status_code}: {response.text[:500]}")
    return answer


def export_once(client: httpx.Client, server: str, base: str, who: Identities) -> tuple[float, list[float], Any]:
    ids: list[int] = []
    names: list[str] = []
    pages: list[float] = []
    after: str | None = None
    started = time.perf_counter()
    while len(ids) < ROWS:
        call = export_call(server, who, after)
        sent = time.perf_counter()
        page = export_page(server, send(client, base, call.method, call.path, call.body, call.headers))
        pages.append(time.perf_counter() - sent)
        ids += page.ids
        names += page.names
        if not page.has_next:
            break
        after = page.end_cursor
    return time.perf_counter() - started, pages, (ids[:ROWS], names[:ROWS])


def measure(server: str, base: str, who: Identities, runs: int = 3) -> Export:
    with httpx.Client(timeout=60) as client:
        export_once(client, server, base, who)  # warm
        totals: list[float] = []
        pages: list[float] = []
        rows: Any = None
        for _ in range(runs):
            total, timings, rows = export_once(client, server, base, who)
            totals.append(total)
            pages += timings
    pages.sort()
    ids, names = rows
    return Export(
        seconds=statistics.median(totals),
        page_p50_ms=statistics.median(pages) * 1000,
        page_p99_ms=pages[min(len(pages) - 1, int(len(pages) * 0.99))] * 1000,
        ids=ids,
        names=names,
    )
