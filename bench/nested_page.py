"""Benchmark: seed throughput, the latency of a realistic nested page, and the cost of the policy layer.

    .venv/bin/python bench/nested_page.py [--residents 50000] [--runs 30] [--postgres URL]

The same page is served as ``city_analyst`` three ways: with the policy layer switched off
(the full schema, no row scope, no audit), with policies enforced, and with policies plus the
audit record every request appends; and as ``committee_staff`` (row filter and masks in SQL). The
variants take turns request by request, so a stretch of a noisy machine slows each alike.
Prints one line per measurement; the README quotes them. Timing lives here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway.app import create_app
from gateway.data import migrate, statement_log
from gateway.kernel import OpenScope, Settings, load_registry
from gateway.pipeline import Runtime

NESTED = """
query Nested($n: Int!) {
  grids(first: $n) {
    totalCount
    nodes {
      name riskColour policeGrid { code } officer { name }
      residents(first: $n) {
        totalCount
        nodes {
          name idNumber phone household { number }
          disputes(first: 5) { nodes { title parties { name } } }
        }
      }
    }
  }
}
"""


@contextmanager
def policy_layer_off(runtime: Runtime) -> Iterator[None]:
    """Serve with the full schema, every row and no audit record: the baseline."""
    saved: dict[str, Any] = {
        "executor_for": runtime.executor_for,
        "scope_for": runtime.scope_for,
        "append": runtime.audit.append,
    }

    async def no_audit(entry: object) -> int:
        return 0

    runtime.executor_for = lambda principal: runtime.full_executor  # type: ignore[method-assign]
    runtime.scope_for = lambda principal: OpenScope()  # type: ignore[method-assign]
    runtime.audit.append = no_audit  # type: ignore[method-assign]
    try:
        yield
    finally:
        runtime.executor_for = saved["executor_for"]  # type: ignore[method-assign]
        runtime.scope_for = saved["scope_for"]  # type: ignore[method-assign]
        runtime.audit.append = saved["append"]  # type: ignore[method-assign]


@contextmanager
def audit_off(runtime: Runtime) -> Iterator[None]:
    saved = runtime.audit.append

    async def no_audit(entry: object) -> int:
        return 0

    runtime.audit.append = no_audit  # type: ignore[method-assign]
    try:
        yield
    finally:
        runtime.audit.append = saved  # type: ignore[method-assign]


async def once(client: httpx.AsyncClient, token: str, n: int) -> tuple[float, int]:
    """One request of the page: its milliseconds and its SQL statements."""
    log: list[str] = []
    reset = statement_log.set(log)
    started = time.perf_counter()
    response = await client.post(
        "/graphql", json={"query": NESTED, "variables": {"n": n}}, headers={"Authorization": f"Bearer {token}"}
    )
    took = (time.perf_counter() - started) * 1000
    statement_log.reset(reset)
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    return took, len(log)


def median_p95(timings: list[float]) -> tuple[float, float]:
    timings = sorted(timings)
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


async def bench(url: str, residents: int, runs: int, label: str) -> None:
    # The pages measured here (up to 50 × 50) are beyond the shipped cost limit, on purpose.
    settings = Settings(
        db_url=url, secret_key="bench-secret-key-0123456789abcdef0123", max_cost=10**7, heavy_cost=10**7
    )
    await asyncio.to_thread(migrate.upgrade, settings)
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    started = time.perf_counter()
    await load_registry().seed(runtime.databases, residents, 0.0)
    seeded = time.perf_counter() - started
    print(f"{label}: seed demo + {residents:,} residents: {seeded:.1f} s ({residents / max(seeded, 1e-9):,.0f}/s)")
    analyst = await runtime.tokens.issue("analyst.city", timedelta(hours=1))
    committee = await runtime.tokens.issue("committee.demo", timedelta(hours=1))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for _ in range(3):  # warm caches and pools
            await once(client, analyst, 5)
        for n in (20, 50):
            modes: list[tuple[str, Callable[[Runtime], AbstractContextManager[None]], str]] = [
                ("city_analyst, policy layer off", policy_layer_off, analyst),
                ("city_analyst, policies enforced, no audit", audit_off, analyst),
                ("city_analyst, policies + audit", _nothing, analyst),
                ("committee_staff, policies + audit", _nothing, committee),
            ]
            # The modes take turns, request by request: a machine slower for a while slows each alike.
            timings: dict[str, list[float]] = {name: [] for name, _, _ in modes}
            statements: dict[str, int] = {}
            for _ in range(runs):
                for name, switch, token in modes:
                    with switch(runtime):
                        took, statements[name] = await once(client, token, n)
                    timings[name].append(took)
            for name, _, _ in modes:
                median, p95 = median_p95(timings[name])
                print(
                    f"{label}: {n}x{n} page, {name}: median {median:.1f} ms, p95 {p95:.1f} ms, "
                    f"{statements[name]} statements"
                )
            off, on = (statistics.median(timings[name]) for name, _, _ in modes[:2])
            print(f"{label}: {n}x{n} page, policy layer on ÷ off (medians): {on / off:.2f}")
    await runtime.close()


@contextmanager
def _nothing(runtime: Runtime) -> Iterator[None]:
    yield


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--postgres", help="a PostgreSQL URL of an empty database to benchmark as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(bench(f"sqlite+aiosqlite:///{folder}/bench.db", args.residents, args.runs, "sqlite"))
    if args.postgres:
        asyncio.run(bench(args.postgres, args.residents, args.runs, "postgres"))


if __name__ == "__main__":
    main()
