"""``make bench-compare``: one run, on this machine, of the gateway, PostGraphile 5 and the floor
over the same PostgreSQL database, driven by the same load generator; and, when Hive Gateway is
installed (``make federation``), of the federated gateway on the pages the scenarios mark: the
cost of the router hop.

    .venv/bin/python -m bench.compare [--residents 100000 | --city [--scale 1.0]] [--seconds 10] [--rounds 3]
                                      [--no-router]

PostgreSQL comes from ``GATEWAY_BENCH_POSTGRES_URL`` (default the local server, user postgres);
the run creates its own database and roles there and drops them at the end. Every process it
starts is stopped at the end, also when something fails or the run is interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import math
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import FrameType
from typing import Any

import httpx
import jwt

from bench.compare import export, load
from bench.compare.database import (
    ROOT,
    Area,
    Database,
    Population,
    analyzed,
    gateway_env,
    gateway_token,
    prepared,
)
from bench.compare.federation import federated, role_of, router_installed
from bench.compare.processes import BenchError, Server, free_port, running, settle
from bench.compare.report import Figures, Line, table
from bench.compare.scenarios import (
    FLOOR,
    GATEWAY,
    POSTGRAPHILE,
    ROUTER,
    SERVERS,
    Call,
    Identities,
    Rows,
    Scenario,
    scenarios,
)

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
POSTGRAPHILE_DIR = ROOT / "bench" / "postgraphile"
RESULTS = ROOT / "bench" / "results"
JWT_SECRET = "bench-compare-postgraphile-secret-0123456789abcdef"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--city", action="store_true", help="seed the whole city (gateway seed --city) instead")
    parser.add_argument("--scale", type=float, default=1.0, help="with --city: this fraction of it")
    parser.add_argument(
        "--database", default=None, help="use this database, prepared before (upgraded and seeded), and keep it"
    )
    parser.add_argument("--seconds", type=int, default=10, help="load per page per server")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure each page this many times, the servers taking turns, and keep each server's median run",
    )
    parser.add_argument("--out", type=Path, default=None, help="default bench/results/compare-DATE.md")
    parser.add_argument(
        "--router",
        action=argparse.BooleanOptionalAction,
        default=router_installed(),
        help="also measure the gateway through Hive Gateway and six subgraphs (default: when `make federation` ran)",
    )
    args = parser.parse_args()
    # A TERM (or a make interrupted) unwinds through every `finally`, so servers and database go.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        population = Population(args.residents, args.scale if args.city else 0.0)
        url = os.environ.get("GATEWAY_BENCH_POSTGRES_URL", DEFAULT_URL)
        text = compare(url, population, args.seconds, args.database, args.router, max(1, args.rounds))
    except BenchError as error:
        print(f"bench-compare: {error}", file=sys.stderr)
        return 1
    out = args.out or RESULTS / f"compare-{dt.date.today():%Y-%m-%d}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(f"\nwritten to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def require_tools() -> None:
    load.require_wrk()
    node = shutil.which("node")
    if node is None:
        raise BenchError("node is not installed (PostGraphile 5 runs on Node.js; Node 20 or newer)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < 20:
        raise BenchError(f"node {version} is too old: PostGraphile 5 needs Node 20 or newer (22 without the polyfill)")
    if not (POSTGRAPHILE_DIR / "node_modules" / "postgraphile").is_dir():
        raise BenchError(
            "PostGraphile is not installed: `npm ci --prefix bench/postgraphile` (make bench-compare runs it)"
        )


def compare(
    url: str,
    population: Population,
    seconds: int,
    existing: str | None = None,
    router: bool = False,
    rounds: int = 1,
) -> str:
    require_tools()
    logs = Path(tempfile.mkdtemp(prefix="bench-compare-"))
    load_before = os.getloadavg()[0]
    say(f"logs in {logs}; preparing a database with {population} …")
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(prepared(url, population, logs / "prepare.log", existing))
        who = identities(database, logs / "prepare.log")
        bases = {
            GATEWAY: stack.enter_context(start_gateway(database, logs)),
            POSTGRAPHILE: stack.enter_context(start_postgraphile(database, logs)),
            FLOOR: stack.enter_context(start_floor(database, logs)),
        }
        say("servers up: " + ", ".join(f"{name} {server.base}" for name, server in bases.items()))
        pages = scenarios(who)
        roles = {s.name: role_of(bases[GATEWAY], s.calls[GATEWAY].headers) for s in pages if router and s.routed}
        federation = stack.enter_context(federated(database, roles.values(), logs)) if roles else None
        if federation is not None:
            say("federated: " + ", ".join(f"{role}'s router {r.base}" for role, r in federation.routers.items()))
        lines: list[Line] = []
        for scenario in pages:
            routes: Routes = {server: (scenario.calls[server], (bases[server],)) for server in SERVERS}
            if federation is not None and scenario.name in roles:
                routes[ROUTER] = (scenario.calls[GATEWAY], federation.servers(roles[scenario.name]))
            check_same_rows(scenario, routes)
            # The servers take turns, round after round: a machine slower for a while slows each alike.
            runs: dict[str, list[Figures]] = {server: [] for server in routes}
            for _ in range(rounds):
                for server, (call, busy) in routes.items():
                    runs[server].append(measure_load(scenario, server, call, busy, seconds))
                    if scenario.writes:
                        analyze(database, scenario.writes)
            figures = {server: median_run(done) for server, done in runs.items()}
            gateway, postgraphile, floor = (figures[s] for s in SERVERS)
            lines.append(Line(scenario.name, scenario.clients, gateway, postgraphile, floor, figures.get(ROUTER)))
        # The export sits with the other reads, before the write (the last scenario).
        lines.insert(len(lines) - 1, measure_export(bases, who))
    when = dt.datetime.now().astimezone()
    text = document(lines, population, seconds, when, (load_before, os.getloadavg()[0]), rounds)
    print("\n" + text)
    return text


def say(text: str) -> None:
    print(f"bench-compare: {text}", flush=True)


def identities(database: Database, log: Path) -> Identities:
    def signed(role: str, grid: int | None = None, area: Area | None = None) -> str:
        claims: dict[str, Any] = {"role": f"{database.role_prefix}_{role}", "grid_id": grid}
        if area is not None:
            claims |= {"grids": list(area.grids), "street_grids": list(area.street_grids), "staff_id": area.staff}
        claims["exp"] = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
        return jwt.encode(claims, JWT_SECRET, algorithm="HS256")

    officer, committee = database.officer, database.committee
    return Identities(
        gateway_grid_worker=gateway_token(database, "gridworker.demo", log),
        gateway_analyst=gateway_token(database, "analyst.city", log),
        postgraphile_grid_worker=signed("grid_worker", database.grid_worker_grid),
        postgraphile_analyst=signed("analyst"),
        grid=database.grid_worker_grid,
        street=database.grid_worker_street,
        staff=database.grid_worker_staff,
        gateway_officer=gateway_token(database, "police.demo", log),
        gateway_committee=gateway_token(database, "committee.demo", log),
        postgraphile_officer=signed("officer", area=officer),
        postgraphile_committee=signed("committee", area=committee),
        officer_staff=officer.staff,
        officer_grids=officer.grids,
        committee_grids=committee.grids,
        committee_street_grids=committee.street_grids,
    )


def start_gateway(database: Database, logs: Path) -> contextlib.AbstractContextManager[Server]:
    # The app `gateway serve` runs, through uvicorn's own command so the access log can be off
    # (`gateway serve` has no switch for it): one worker, uvloop and httptools as installed.
    port = free_port()
    argv = [str(ROOT / ".venv/bin/uvicorn"), "gateway.app:app_from_env", "--factory", "--host", "127.0.0.1"]
    argv += ["--port", str(port), "--workers", "1", "--no-access-log", "--log-level", "warning"]
    return running("the gateway", argv, cwd=ROOT, env=gateway_env(database), port=port, log=logs / "gateway.log")


def start_postgraphile(database: Database, logs: Path) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    env = {"DATABASE_URL": database.url, "JWT_SECRET": JWT_SECRET, "PORT": str(port), "NODE_ENV": "production"}
    node = shutil.which("node") or "node"
    return running(
        "PostGraphile", [node, "server.mjs"], cwd=POSTGRAPHILE_DIR, env=env, port=port, log=logs / "postgraphile.log"
    )


def start_floor(database: Database, logs: Path) -> contextlib.AbstractContextManager[Server]:
    port = free_port()
    argv = [str(ROOT / ".venv/bin/uvicorn"), "bench.compare.floor:app", "--host", "127.0.0.1", "--port", str(port)]
    argv += ["--workers", "1", "--no-access-log", "--log-level", "warning"]
    env = {"BENCH_FLOOR_DATABASE_URL": database.url}
    return running("the floor", argv, cwd=ROOT, env=env, port=port, log=logs / "floor.log")


# Where each server of a page is asked: the request, and the processes it keeps busy (the first one
# answers it; for the federated gateway, the router, then the subgraphs behind it).
Routes = dict[str, tuple[Call, tuple[Server, ...]]]


def check_same_rows(scenario: Scenario, routes: Routes) -> None:
    """Ask each server once and compare what matters (ids, names, counts) before anything is timed."""
    seen: dict[str, Rows] = {}
    with httpx.Client(timeout=120) as client:
        for server, (call, busy) in routes.items():
            body = None if call.body is None else call.body.replace("{unique}", f"check-{secrets.token_hex(4)}")
            answer = export.send(client, busy[0].base, call.method, call.path, body, call.headers)
            # The federated gateway answers the gateway's request, so it reads the gateway's way.
            seen[server] = scenario.rows[GATEWAY if server == ROUTER else server](answer)
    if not seen[GATEWAY]:
        raise BenchError(f"{scenario.name}: the gateway returned nothing to compare")
    for server in seen.keys() - {GATEWAY}:
        if seen[server] != seen[GATEWAY]:
            raise BenchError(
                f"{scenario.name}: {server} does not return the gateway's rows\n"
                f"  gateway: {str(seen[GATEWAY])[:600]}\n  {server}: {str(seen[server])[:600]}"
            )
    say(f"{scenario.name}: the same rows from all {len(seen)}")


def measure_load(scenario: Scenario, server: str, call: Call, busy: tuple[Server, ...], seconds: int) -> Figures:
    target = busy[0]
    slowest = warm(target, call)
    for process in busy:
        settle(process)
    # A page slower than the load's duration would finish no request at all: give it time for a few.
    duration = min(60, max(seconds, math.ceil(5 * slowest * scenario.clients / 2)))
    result = load.run(target.base, call, scenario.clients, duration)
    for process in busy:
        settle(process)
    say(
        f"{scenario.name} — {server}: {result.per_second:,.1f} req/s, p50 {result.p50_ms:,.1f} ms, "
        f"p99 {result.p99_ms:,.1f} ms ({result.requests} requests in {duration} s, {result.failed} failed; "
        f"alone {slowest * 1000:,.0f} ms)"
    )
    text = f"{result.per_second:,.1f} req/s ({result.requests:,})"
    return Figures(result.per_second, text, result.p50_ms, result.p99_ms)


def analyze(database: Database, tables: tuple[str, ...]) -> None:
    """Bring the planner's statistics of ``tables`` up to date after a write's measurement: it adds a
    thousand rows or more to one grid in seconds, where autovacuum would analyze within its minute;
    the next measurement (the next server's, the next round's) must not run on the plans of a grid
    believed nearly empty (a lookup by key through the grid's index, one row at a time: seen)."""
    asyncio.run(analyzed(database.url, tables))


def median_run(runs: list[Figures]) -> Figures:
    """The run of median throughput (of an even number, the slower of the middle two)."""
    return sorted(runs, key=lambda figures: figures.rate)[(len(runs) - 1) // 2]


def warm(target: Server, call: Call, times: int = 3) -> float:
    """A few complete requests, one at a time, to warm caches, pools and JITs; the last one's seconds."""
    took = 0.0
    with httpx.Client(timeout=120) as client:
        for _ in range(times):
            body = None if call.body is None else call.body.replace("{unique}", f"warm-{secrets.token_hex(4)}")
            started = time.perf_counter()
            export.send(client, target.base, call.method, call.path, body, call.headers)
            took = time.perf_counter() - started
    return took


def measure_export(bases: dict[str, Server], who: Identities) -> Line:
    done = {}
    for server in SERVERS:
        done[server] = export.measure(server, bases[server].base, who)
        settle(bases[server])
    for server in (POSTGRAPHILE, FLOOR):
        if (done[server].ids, done[server].names) != (done[GATEWAY].ids, done[GATEWAY].names):
            raise BenchError(f"export: {server} does not return the gateway's {len(done[GATEWAY].ids)} residents")
    figures = {}
    for server, result in done.items():
        say(f"export — {server}: {result.seconds:.2f} s for {len(result.ids):,} rows")
        text = f"{result.seconds:.2f} s ({result.rows_per_second:,.0f} rows/s)"
        figures[server] = Figures(result.rows_per_second, text, result.page_p50_ms, result.page_p99_ms)
    rows = len(done[GATEWAY].ids)
    return Line(f"analyst's export, {rows:,} residents in pages of 100", 1, *(figures[s] for s in SERVERS))


def document(
    lines: list[Line],
    population: Population,
    seconds: int,
    when: dt.datetime,
    loads: tuple[float, float],
    rounds: int = 1,
) -> str:
    taking_turns = (
        f"; each page measured in {rounds} rounds, the servers taking turns, and each server's median run kept"
        if rounds > 1
        else ""
    )
    return (
        f"# Side by side, {when:%Y-%m-%d %H:%M %Z}\n\n"
        f"`make bench-compare` on this machine ({os.cpu_count()} cores): PostgreSQL with the demo data and "
        f"{population}; each server one process; wrk, one thread, {seconds} s per page per "
        "server (longer for a page too slow to finish a few requests in that time, up to 60 s) after 3 "
        f"warm-up requests{taking_turns}; in brackets the requests completed; the export by one client, median of 3 "
        f"runs (its p50 / p99 are per page). Load average {loads[0]:.1f} before, {loads[1]:.1f} after: other work "
        "on the machine shares its cores, so compare the figures of one run with each other.\n\n"
        + table(lines)
        + "\nRatios are the gateway's throughput over the other's: below 1, the gateway is slower. "
        "The write: the gateway's `reportDispute` inserts the dispute, one party, its outbox row and the audit "
        "record; PostGraphile's `createDispute` and the floor insert the dispute row only. "
        "The task list and the statistics: PostGraphile exposes SQL functions (`officer_tasks()`, "
        "`resident_stats()`, `dispute_stats()`, `grid_stats()`) that run under row-level security as the "
        "officer's or the committee's role; the floor calls the same SQL with the caller's grids.\n"
        + (ROUTED if any(line.router is not None for line in lines) else "")
    )


ROUTED = (
    "\nGateway via router: the gateway's own request and token sent to Hive Gateway (one process, the shipped "
    "gateway/schema/federation/gateway.config.mjs, which sends every request on rather than merging identical "
    "ones in flight) serving the supergraph of the "
    "caller's role, in front of the six subgraphs (`gateway serve --subgraph NAME`, one process each, the "
    "gateway's settings, the same database); the router forwards the token and each subgraph applies its own "
    "policy. Via router ÷ gateway is its throughput over the single gateway's in this run (below 1: the router "
    "hop's cost). Seven processes against one: on a machine with cores to spare the subgraphs of one request "
    "work in parallel. Measured on the pages bench/compare/scenarios.py marks; — elsewhere.\n"
)


if __name__ == "__main__":
    sys.exit(main())
