"""Rate limits per token and per agency, requests and estimated cost a minute, in memory or in Redis."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import select

from gateway.app import create_app
from gateway.audit import AuditRecord
from gateway.kernel import load_registry
from gateway.ops import registry_with
from gateway.policy import PolicySet, RateLimit, RateLimits, load_policies
from tests.harness import Gateway, redis_url, running_gateway

ROOT = Path(__file__).resolve().parent.parent
PARTNER = "judicial_office"
CHEAP = "{ me { id } }"
PAGE = "query Page { residents(first: 100) { nodes { name } } }"  # 1 + 100 × (1 + 1) = 201


def _policies(folder: Path) -> Path:
    policies = Path(shutil.copytree(ROOT / "policies", folder / "policies"))
    read = policies / "scopes" / "dispute-read.yaml"
    read.write_text(
        read.read_text() + "rate_limits:\n  token: {requests_per_minute: 3}\n  agency: {requests_per_minute: 5}\n"
    )
    analyst = policies / "roles" / "city_analyst.yaml"
    analyst.write_text(analyst.read_text() + "rate_limits:\n  token: {cost_per_minute: 500}\n")
    return policies


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Gateway]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    async with running_gateway("sqlite", url, policy_dir=_policies(tmp_path)) as gateway:
        yield gateway


async def _ask(gw: Gateway, token: str, query: str = CHEAP, client: httpx.AsyncClient | None = None) -> httpx.Response:
    return await (client or gw.client).post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )


def _refused(response: httpx.Response, limit: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["limit"] == limit
    assert error["extensions"]["retryAfter"] == int(response.headers["Retry-After"])


def _refusals(registry: CollectorRegistry, limit: str, kind: str) -> float:
    return registry.get_sample_value("gateway_rate_limited_total", {"limit": limit, "kind": kind}) or 0.0


async def test_a_partner_over_its_rate_gets_429_with_retry_after_and_is_audited(gw: Gateway) -> None:
    metrics = registry_with([])
    before = _refusals(metrics, "token", "requests")
    token = gw.tokens[PARTNER]
    for _ in range(3):
        assert (await _ask(gw, token)).status_code == 200
    _refused(await _ask(gw, token), "token")
    assert _refusals(metrics, "token", "requests") == before + 1
    async with gw.runtime.databases.session("gateway") as session:
        record = (await session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()).limit(1))).one()
    assert (record.principal_id, record.outcome) == ("judicial.demo", "limited")
    # Another token of the same agency has its own 3, but the agency only 5 in all: 2 are left.
    record_ = await gw.runtime.directory.find("judicial.demo")
    assert record_ is not None
    other = await gw.runtime.tokens.issue(record_.id, timedelta(minutes=5), record_.scopes)
    for _ in range(2):
        assert (await _ask(gw, other)).status_code == 200
    _refused(await _ask(gw, other), "agency")
    # Roles without rate_limits are not limited.
    for _ in range(8):
        assert (await _ask(gw, gw.tokens["committee_staff"])).status_code == 200


async def test_cost_a_minute_counts_the_estimated_cost_not_the_requests(gw: Gateway) -> None:
    token = gw.tokens["city_analyst"]
    for _ in range(2):
        assert (await _ask(gw, token, PAGE)).status_code == 200
    refused = await _ask(gw, token, PAGE)
    _refused(refused, "token")
    assert "estimated cost" in refused.json()["errors"][0]["message"]
    # Within what is left, a cheap operation still runs.
    assert (await _ask(gw, token)).status_code == 200


def test_policies_read_and_merge_rate_limits(tmp_path: Path) -> None:
    policies: PolicySet = load_policies(_policies(tmp_path))
    assert policies.scopes["dispute:read"].rate_limits == RateLimits(RateLimit(3), RateLimit(5))
    merged = policies.for_scopes(["dispute:read", "dispute:mediate"])
    assert merged.rate_limits.token.requests_per_minute == 3
    bad = tmp_path / "policies" / "roles" / "auditor.yaml"
    bad.write_text(bad.read_text() + "rate_limits:\n  token: {requests_per_minute: 0}\n")
    with pytest.raises(Exception, match="positive whole numbers"):
        load_policies(tmp_path / "policies")


async def test_with_redis_two_workers_count_against_one_limit(tmp_path: Path) -> None:
    redis = await redis_url()
    url = f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}"
    namespace = f"test-{uuid.uuid4().hex}"
    overrides: dict[str, Any] = {
        "policy_dir": _policies(tmp_path),
        "redis_url": redis,
        "rate_limit_namespace": namespace,
    }
    async with running_gateway("sqlite", url, **overrides) as first:
        assert first.runtime.rates.limiter.shared
        second_app = create_app(first.settings, load_registry())
        transport = httpx.ASGITransport(app=second_app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway.test") as second:
            token = first.tokens[PARTNER]
            assert (await _ask(first, token)).status_code == 200
            assert (await _ask(first, token, client=second)).status_code == 200
            assert (await _ask(first, token)).status_code == 200
            _refused(await _ask(first, token, client=second), "token")
        await second_app.state.runtime.close()
