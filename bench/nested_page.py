"""Benchmark: seed throughput and the latency of a realistic nested page.

    .venv/bin/python bench/nested_page.py [--residents 50000] [--runs 30] [--postgres URL]

Prints one line per measurement; the README quotes them. Timing lives here, never in tests.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gateway import migrate
from gateway.app import create_app
from gateway.db import statement_log
from gateway.registry import load_registry
from gateway.runtime import Runtime
from gateway.settings import Settings

NESTED = """
query Nested($n: Int!) {
  grids(first: $n) {
    totalCount
    nodes {
      name riskColour policeGrid { code } officer { name }
      residents(first: $n) {
        totalCount
        nodes {
          name idNumber household { number }
          disputes(first: 5) { nodes { title parties { name } } }
          vehicles { plate }
        }
      }
    }
  }
}
"""


async def bench(url: str, residents: int, runs: int, label: str) -> None:
    settings = Settings(db_url=url, secret_key="bench-secret-key-0123456789abcdef0123")
    await asyncio.to_thread(migrate.upgrade, settings)
    app = create_app(settings)
    runtime: Runtime = app.state.runtime
    started = time.perf_counter()
    await load_registry().seed(runtime.databases, residents)
    seeded = time.perf_counter() - started
    print(f"{label}: seed demo + {residents:,} residents: {seeded:.1f} s ({residents / seeded:,.0f} residents/s)")
    token = await runtime.tokens.issue("analyst.city", timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
        for n in (5, 20, 50):
            timings: list[float] = []
            statements = 0
            for _ in range(runs):
                log: list[str] = []
                reset = statement_log.set(log)
                t0 = time.perf_counter()
                response = await client.post("/graphql", json={"query": NESTED, "variables": {"n": n}}, headers=headers)
                timings.append((time.perf_counter() - t0) * 1000)
                statement_log.reset(reset)
                statements = len(log)
                assert response.status_code == 200 and "errors" not in response.json(), response.text
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(
                f"{label}: nested page {n} grids x {n} residents: median {statistics.median(timings):.1f} ms, "
                f"p95 {p95:.1f} ms, {statements} SQL statements"
            )
    await runtime.close()


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
