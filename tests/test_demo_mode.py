"""Demo mode: /graphiql/demo-tokens exists only under GATEWAY_DEMO, never under GATEWAY_ENV=production."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from gateway.kernel import Settings
from gateway.transport import demo_routes, graphiql_page_html
from gateway.transport.examples import EXAMPLE_TABS
from tests.harness import Gateway


def test_demo_mode_needs_the_switch_and_never_runs_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    assert not Settings(demo=False).demo_mode
    assert Settings(demo=True).demo_mode
    assert demo_routes(Settings(demo=False)) == []
    monkeypatch.setenv("GATEWAY_ENV", "production")
    assert not Settings(demo=True).demo_mode
    assert demo_routes(Settings(demo=True)) == []


async def test_the_endpoint_is_absent_outside_demo_mode(gw: Gateway) -> None:
    assert not gw.settings.demo_mode
    assert (await gw.client.get("/graphiql/demo-tokens")).status_code == 404


def _client(app: Starlette, host: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(host, 1234)), base_url="http://127.0.0.1")


async def test_demo_tokens_work_and_only_on_this_machine(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GATEWAY_ENV", raising=False)
    app = Starlette(routes=demo_routes(Settings(demo=True)))
    app.state.runtime = gw.runtime
    async with _client(app, "10.1.2.3") as client:
        refused = await client.get("/graphiql/demo-tokens")
        assert refused.status_code == 403 and refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    async with _client(app, "127.0.0.1") as client:
        # A page elsewhere whose host name was pointed at 127.0.0.1 (DNS rebinding), or a cross-site fetch.
        rebound = await client.get("/graphiql/demo-tokens", headers={"Host": "evil.rebind.example:8000"})
        assert rebound.status_code == 403
        cross = await client.get("/graphiql/demo-tokens", headers={"Sec-Fetch-Site": "cross-site"})
        assert cross.status_code == 403
        principals = (await client.get("/graphiql/demo-tokens")).json()["principals"]
        again = (await client.get("/graphiql/demo-tokens")).json()["principals"]
    assert again == principals, "tokens are issued once, not on every page load"
    committee = next(p for p in principals if p["role"] == "committee_staff")
    me = await gw.client.post(
        "/graphql", json={"query": "{ me { id role } }"}, headers={"Authorization": f"Bearer {committee['token']}"}
    )
    assert me.json()["data"]["me"] == {"id": "committee.demo", "role": "committee_staff"}


def test_the_page_holds_the_example_tabs() -> None:
    html = graphiql_page_html()
    titles = [title for title, _, _ in EXAMPLE_TABS]
    assert titles == ["FiveDomains", "ReportDispute", "DisputeUpdates"]
    for needle in (
        "query FiveDomains",
        "mutation ReportDispute",
        "subscription DisputeUpdates",
        "graphql-transport-ws",
    ):
        assert needle in html


def test_the_examples_validate_for_the_roles_they_are_for(gw: Gateway) -> None:
    from graphql import parse, validate

    runtime = gw.runtime
    for title, document, _ in EXAMPLE_TABS:
        role = "committee_staff" if title == "ReportDispute" else "city_analyst"
        policy = runtime.policies.for_role(role)
        assert validate(runtime.schema_of(policy), parse(document)) == [], title
