"""/metrics, /readyz, the request id and the JSON access line, and OpenTelemetry traces."""

from __future__ import annotations

import json
import socket
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.app import create_app
from gateway.kernel import Settings
from gateway.ops import Tracing
from gateway.transport import metrics_registry, serve_metrics
from tests.harness import Gateway, running_gateway

METRICS_TOKEN = "metrics-token-0123456789"


@pytest.fixture(scope="module")
async def gw(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('ops') / 'gw.db'}"
    async with running_gateway("sqlite", url, metrics_token=METRICS_TOKEN) as gateway:
        yield gateway


async def test_metrics_answer_only_with_their_token(gw: Gateway) -> None:
    await gw.query("query Roster { streets(first: 1) { nodes { name } } }")
    await gw.query("{ residents(first: 2) { nodes { name idNumber } } }", role="committee_staff")
    assert (await gw.client.get("/metrics")).status_code == 401
    wrong = await gw.client.get("/metrics", headers={"Authorization": f"Bearer {gw.tokens['city_analyst']}"})
    assert wrong.status_code == 401
    response = await gw.client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert 'gateway_requests_total{operation="Roster",outcome="ok",role="city_analyst"}' in text
    for name in (
        "gateway_request_duration_seconds_bucket",
        "gateway_operation_cost_bucket",
        "gateway_audit_append_duration_seconds_count",
        "gateway_db_pool_checked_out",
        "gateway_feed_lag_seconds",
        "gateway_rate_limited_total",
    ):
        assert name in text, name
    audit_count = next(
        line for line in text.splitlines() if line.startswith("gateway_audit_append_duration_seconds_count")
    )
    assert float(audit_count.split()[-1]) >= 1, "the committee's read of ID numbers was audited"


async def test_without_a_metrics_token_metrics_are_not_served_on_the_main_port(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    async with running_gateway("sqlite", url) as plain:
        assert (await plain.client.get("/metrics", headers={"Authorization": "Bearer "})).status_code == 404


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_metrics_on_a_bind_of_their_own(gw: Gateway) -> None:
    port = _free_port()
    stop = serve_metrics(Settings(metrics_port=port), metrics_registry(gw.runtime))
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            assert b"gateway_requests_total" in answer.read()
    finally:
        stop()


async def test_readyz_checks_the_databases_the_policies_and_the_feed(gw: Gateway) -> None:
    assert (await gw.client.get("/healthz")).json() == {"status": "ok"}
    ready = await gw.client.get("/readyz")
    assert ready.status_code == 200, ready.text
    checks = ready.json()["checks"]
    assert checks["database:0"] == "ok" and checks["policies"].startswith("version ")
    assert checks["feed"].startswith("reading ")
    await gw.runtime.feed.stop()
    try:
        stopped = await gw.client.get("/readyz")
        assert stopped.status_code == 503 and stopped.json()["checks"]["feed"] == "not running"
    finally:
        await gw.runtime.feed.start()


async def test_readyz_fails_when_a_database_does_not_answer(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    async with running_gateway("sqlite", url) as gateway:
        (tmp_path / "gw.db").unlink()
        (tmp_path / "gw.db").mkdir()  # the file is now a folder: SQLite cannot open it
        await gateway.runtime.databases.dispose()
        response = await gateway.client.get("/readyz")
        assert response.status_code == 503 and response.json()["checks"]["database:0"].startswith("failed")


async def test_every_response_carries_the_request_id_of_its_log_line(gw: Gateway, access_lines: list[str]) -> None:
    response = await gw.post("{ me { id } }")
    ident = response.headers["X-Request-Id"]
    given = await gw.post("{ me { id } }", headers={"X-Request-Id": "edge-42.a_b"})
    assert given.headers["X-Request-Id"] == "edge-42.a_b"
    # An id that could carry a value (a long number) or forge a line is replaced by one of ours.
    forged = await gw.post("{ me { id } }", headers={"X-Request-Id": "13800138000"})
    assert forged.headers["X-Request-Id"] != "13800138000" and len(forged.headers["X-Request-Id"]) == 32
    entries = [json.loads(line) for line in access_lines]
    assert [e["request_id"] for e in entries] == [ident, "edge-42.a_b", forged.headers["X-Request-Id"]]
    assert all(e["role"] == "city_analyst" and e["outcome"] == "ok" for e in entries)
    assert "13800138000" not in "\n".join(access_lines)


async def test_traces_cover_http_the_operation_and_sql_without_the_query_string(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    async with running_gateway("sqlite", url) as gateway:
        app = create_app(gateway.settings, tracing=Tracing(provider))
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as client:
                number = "120101199001011234"
                response = await client.get(
                    "/graphql",
                    params={"query": f'query ByNumber {{ residentByIdNumber(idNumber: "{number}") {{ name }} }}'},
                    headers={"Authorization": f"Bearer {gateway.tokens['committee_staff']}"},
                )
                assert response.status_code == 200, response.text
        finally:
            await app.state.runtime.close()
    spans = exporter.get_finished_spans()
    names = [span.name for span in spans]
    assert "graphql.query" in names
    operation = next(span for span in spans if span.name == "graphql.query")
    assert operation.attributes is not None and operation.attributes["graphql.operation.name"] == "ByNumber"
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert server, names
    sql = [
        s for s in spans if (s.attributes and "db.statement" in s.attributes) or "db.query.text" in (s.attributes or {})
    ]
    assert sql, names
    # The operation and the SQL are children of the request's span, in one trace.
    assert {s.context.trace_id for s in (*server, operation, *sql)} == {server[0].context.trace_id}
    everything = json.dumps([dict(s.attributes or {}) for s in spans], default=str)
    assert number not in everything and "query=" not in everything


def test_tracing_is_on_only_with_an_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_ENDPOINT", raising=False)
    assert Tracing.configured(Settings()) is None
    configured = Tracing.configured(Settings(otlp_endpoint="http://127.0.0.1:4318"))
    assert configured is not None
    configured.provider.shutdown()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318")
    assert Tracing.configured(Settings()) is not None


def test_an_operation_name_holding_a_number_keeps_none_of_its_digits_as_a_label() -> None:
    from gateway.ops import operation_label

    assert operation_label("Find120112197805149014") == "Find" + "#" * 18
    assert operation_label("a139_2030_8583") == "a###_####_####"
    assert operation_label("Residents2") == "Residents2"
