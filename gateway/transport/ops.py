"""``/metrics`` (Prometheus) and ``/readyz`` (is every dependency there).

``/metrics`` answers only with ``Authorization: Bearer <GATEWAY_METRICS_TOKEN>``; without that
setting it is not served on the main port at all (404) — serve it on a bind of its own with
``GATEWAY_METRICS_PORT`` instead, or both. ``/readyz`` answers 200 when every database answers,
a policy set is in force and the change feed is reading its outboxes (and the rate-limit store
answers, when it is Redis); else 503, saying which check failed. ``/healthz`` is liveness only.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.kernel import Settings
from gateway.ops import registry_with
from gateway.pipeline import Runtime

log = logging.getLogger("gateway.ops")
CHECK_SECONDS = 2.0


class RuntimeCollector(Collector):
    """What is read at scrape time: connection pools and the change feed's lag."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[Metric]:
        size = GaugeMetricFamily("gateway_db_pool_size", "Connections a database's pool keeps", labels=["database"])
        used = GaugeMetricFamily(
            "gateway_db_pool_checked_out", "Connections in use from a database's pool", labels=["database"]
        )
        for index, engine in enumerate(self.runtime.databases.engines):
            pool: Any = engine.sync_engine.pool
            name = f"{engine.dialect.name}:{engine.url.database or index}".rsplit("/", 1)[-1]
            if hasattr(pool, "size"):
                size.add_metric([name], float(pool.size()))
            if hasattr(pool, "checkedout"):
                used.add_metric([name], float(pool.checkedout()))
        yield size
        yield used
        lag = GaugeMetricFamily(
            "gateway_feed_lag_seconds", "Seconds since the change feed last read through an outbox", labels=["domain"]
        )
        for domain, seconds in self.runtime.feed.lag().items():
            lag.add_metric([domain], seconds)
        yield lag


def metrics_registry(runtime: Runtime) -> CollectorRegistry:
    return registry_with([RuntimeCollector(runtime)])


async def metrics_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    expected = runtime.settings.metrics_token
    if not expected:
        return JSONResponse({"error": "Not found"}, status_code=404)
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected.encode()):
        return JSONResponse(
            {"error": "Send Authorization: Bearer <GATEWAY_METRICS_TOKEN>"},
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    registry: CollectorRegistry = request.app.state.metrics
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


async def _database(runtime: Runtime, index: int) -> str:
    engine = runtime.databases.engines[index]
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    return "ok"


async def _check(name: str, probe: Any) -> tuple[str, str, bool]:
    try:
        return name, await asyncio.wait_for(probe, CHECK_SECONDS), True
    except Exception as error:
        log.warning("readiness check %s failed: %s", name, type(error).__name__)
        return name, f"failed: {type(error).__name__}", False


async def readyz(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    probes = [_check(f"database:{i}", _database(runtime, i)) for i in range(len(runtime.databases.engines))]
    if runtime.rates.limiter.shared:
        probes.append(_check("rate_limit_store", _store(runtime)))
    results = list(await asyncio.gather(*probes))
    policies = runtime.policies
    results.append(("policies", f"version {policies.version}: {len(policies.roles)} roles", bool(policies.roles)))
    results.append(_feed(runtime))
    ready = all(ok for _, _, ok in results)
    body = {"status": "ready" if ready else "not ready", "checks": {name: said for name, said, _ in results}}
    return JSONResponse(body, status_code=200 if ready else 503)


async def _store(runtime: Runtime) -> str:
    if not await runtime.rates.limiter.check():
        raise ConnectionError("rate-limit store does not answer")
    return "ok"


def _feed(runtime: Runtime) -> tuple[str, str, bool]:
    feed = runtime.feed
    if not feed.running:
        return "feed", "not running", False
    # An outbox not read through for many poll intervals: its tailer is stuck or its database is down.
    allowed = max(5.0, 10 * runtime.settings.feed_poll_seconds)
    lag = feed.lag()
    late = sorted(domain for domain, seconds in lag.items() if seconds > allowed)
    if late:
        return "feed", f"outboxes not read for over {allowed:.0f}s: {', '.join(late)}", False
    return "feed", f"reading {len(lag)} outboxes", True


def serve_metrics(settings: Settings, registry: CollectorRegistry) -> Callable[[], None]:
    """Serve ``registry`` on ``GATEWAY_METRICS_HOST:GATEWAY_METRICS_PORT`` when the port is set; the
    returned function stops it. With several workers, only the first to bind serves (its own counts)."""
    if settings.metrics_port is None:
        return lambda: None
    try:
        server, thread = start_http_server(settings.metrics_port, settings.metrics_host, registry=registry)
    except OSError as error:
        log.warning("metrics port %s not served here: %s", settings.metrics_port, error)
        return lambda: None

    def stop() -> None:
        server.shutdown()
        thread.join(timeout=5)

    return stop
