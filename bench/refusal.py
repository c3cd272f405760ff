"""Benchmark: how long the gateway takes to refuse the red team's document, and a too-costly one.

    .venv/bin/python bench/refusal.py [--runs 50]

The document of issue 9 — fifty aliases of ``grids(first: 100) { … residents(first: 100) … }`` —
once kept a worker busy for 71 s. It is now refused (QUERY_TOO_COMPLEX) before anything runs;
this prints the median and worst time of that refusal over a fresh gateway (demo data plus
50,000 residents, so a page that did run would be large), in-process, each run a new document
text (no cached parse). Timing lives here, never in tests.
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

from gateway.app import create_app
from gateway.data import migrate
from gateway.kernel import Settings, load_registry
from gateway.pipeline import Runtime

HEAVY = "a{n}: grids(first: 100) {{ nodes {{ residents(first: 100) {{ nodes {{ id name }} }} }} }}"


def document(aliases: int, salt: int) -> str:
    return f"query R{salt} {{ " + " ".join(HEAVY.format(n=n) for n in range(aliases)) + " }"


async def refusal_times(client: httpx.AsyncClient, token: str, aliases: int, runs: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"}
    timings: list[float] = []
    for run in range(runs):
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": document(aliases, run)}, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        (error,) = response.json()["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX", error
    return sorted(timings)


async def main(runs: int, residents: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            db_url=f"sqlite+aiosqlite:///{folder}/bench.db", secret_key="bench-secret-key-0123456789abcdef0123"
        )
        await asyncio.to_thread(migrate.upgrade, settings)
        app = create_app(settings)
        runtime: Runtime = app.state.runtime
        await load_registry().seed(runtime.databases, residents, 0.0)
        token = await runtime.tokens.issue("analyst.city", timedelta(hours=1))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            await client.post("/graphql", json={"query": "{ me { id } }"}, headers={"Authorization": f"Bearer {token}"})
            for aliases, why in ((50, "tokens"), (10, "cost")):
                timings = await refusal_times(client, token, aliases, runs)
                print(
                    f"{aliases} heavy aliases, refused for {why}: median {statistics.median(timings):.1f} ms, "
                    f"p95 {timings[int(len(timings) * 0.95) - 1]:.1f} ms, worst {timings[-1]:.1f} ms over {runs} runs"
                )
        await runtime.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--residents", type=int, default=50_000)
    args = parser.parse_args()
    asyncio.run(main(args.runs, args.residents))
