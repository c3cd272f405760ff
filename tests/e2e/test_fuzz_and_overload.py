"""Fuzzing and overload against a real uvicorn server, with the limits as shipped.

- Every role's own schema (read by introspection, as a client would) fed to hypothesis-graphql:
  valid and invalid queries and mutations, strings with NULs and any Unicode; no answer is a 5xx.
- Twenty clients sending the heaviest pages their limits allow while `{ me { id } }` is asked
  again and again: `me` keeps answering within a second and nothing answers 500.
"""

from __future__ import annotations

import asyncio
import json
import socket
import statistics
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from graphql import GraphQLSchema, StringValueNode, build_client_schema, get_introspection_query
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema

from tests.e2e.servers import Server, gateway_env, issue_tokens, prepare_database, run_cli, uvicorn_server
from tests.harness import DEMO


def literal(value: object) -> StringValueNode:
    return StringValueNode(value=str(value))


SCALARS = {
    "Date": st.dates().map(lambda d: literal(d.isoformat())),
    "DateTime": st.datetimes().map(lambda d: literal(d.isoformat())),
    "Decimal": st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6).map(
        literal
    ),
}
EXAMPLES_PER_ROLE = 25
FUZZ_BUDGET_SECONDS = 60
# A page near the most an analyst may ask for under the default cost: 1 + 25 × (5 + 25 × 6) = 3,876.
HEAVY = (
    "{ grids(first: 25) { nodes { id name code residents(first: 25) { nodes { id name idNumber phone address } } } } }"
)
RESIDENTS = 6000
CLIENTS = 20
BURST_SECONDS = 8


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("fuzz")
    env = gateway_env(f"sqlite+aiosqlite:///{folder / 'gateway.db'}")
    prepare_database(env)
    run_cli(env, "seed", "--residents", str(RESIDENTS))
    tokens: dict[str, str] = {}

    def issue() -> None:
        issued = issue_tokens(env, *DEMO.values())
        tokens.update({role: issued[principal] for role, principal in DEMO.items()})

    with uvicorn_server(env, folder / "uvicorn.log", meanwhile=issue) as running:
        yield running, tokens
        log = running.log_tail(100_000)
    assert "Traceback" not in log, log[-4000:]


def role_schema(client: httpx.Client, token: str) -> GraphQLSchema:
    response = client.post(
        "/graphql", json={"query": get_introspection_query()}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return build_client_schema(response.json()["data"])


@pytest.mark.parametrize("role", sorted(DEMO))
def test_fuzzed_documents_never_get_a_5xx(server: tuple[Server, dict[str, str]], role: str) -> None:
    running, tokens = server
    started = time.monotonic()
    with httpx.Client(base_url=running.base_url, timeout=30) as client:
        schema = role_schema(client, tokens[role])
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        seen: list[int] = []
        valid = from_schema(schema, custom_scalars=SCALARS)
        invalid = from_schema(schema, custom_scalars=SCALARS, mode=Mode.NEGATIVE)

        @settings(
            max_examples=EXAMPLES_PER_ROLE,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(document=st.one_of(valid, invalid), variables=st.none() | st.dictionaries(st.text(), st.text()))
        def ask(document: str, variables: dict[str, Any] | None) -> None:
            response = client.post("/graphql", json={"query": document, "variables": variables}, headers=headers)
            seen.append(response.status_code)
            assert response.status_code < 500, (document, response.text)
            assert response.json().get("errors") or "data" in response.json()

        ask()
    assert len(seen) >= EXAMPLES_PER_ROLE // 2
    # Eight roles share one minute.
    assert time.monotonic() - started < FUZZ_BUDGET_SECONDS / len(DEMO) * 2


async def test_me_answers_during_a_burst_of_heavy_pages(server: tuple[Server, dict[str, str]]) -> None:
    running, tokens = server
    analyst = {"Authorization": f"Bearer {tokens['city_analyst']}"}
    worker = {"Authorization": f"Bearer {tokens['grid_worker']}"}
    statuses: list[int] = []
    waits: list[float] = []
    stop = asyncio.Event()
    limits = httpx.Limits(max_connections=CLIENTS + 2)
    async with httpx.AsyncClient(base_url=running.base_url, timeout=60, limits=limits) as client:
        heavy = await client.post("/graphql", json={"query": HEAVY}, headers=analyst)
        assert heavy.status_code == 200 and "errors" not in heavy.json(), heavy.text
        pages = heavy.json()["data"]["grids"]["nodes"]
        print(f"heavy page: {len(pages)} grids, {sum(len(g['residents']['nodes']) for g in pages)} residents")

        async def heavy_client() -> None:
            while not stop.is_set():
                response = await client.post("/graphql", json={"query": HEAVY}, headers=analyst)
                statuses.append(response.status_code)

        async def asking_me() -> None:
            while not stop.is_set():
                began = time.monotonic()
                response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=worker)
                waits.append(time.monotonic() - began)
                assert response.status_code == 200 and response.json()["data"]["me"]["id"], response.text
                await asyncio.sleep(0.2)

        tasks = [asyncio.create_task(heavy_client()) for _ in range(CLIENTS)]
        me = asyncio.create_task(asking_me())
        await asyncio.sleep(BURST_SECONDS)
        stop.set()
        await asyncio.gather(*tasks, me)
    assert statuses and 500 not in statuses, statuses
    assert set(statuses) <= {200, 503}, set(statuses)
    assert len(waits) >= 5
    print(
        f"me: {len(waits)} answers, median {statistics.median(waits):.3f}s, max {max(waits):.3f}s; heavy: {statuses.count(200)} ok, {statuses.count(503)} 503"
    )
    # Within a second; one straggler is allowed up to two (this machine is shared with other work).
    assert sorted(waits)[-2] < 1.0 and max(waits) < 2.0, sorted(waits)[-5:]


def test_clients_that_go_away_are_quiet(server: tuple[Server, dict[str, str]]) -> None:
    running, tokens = server
    body = json.dumps({"query": HEAVY}).encode()
    head = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {tokens['city_analyst']}\r\n"
        "Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    )
    before = running.log_tail(200_000).count('"status": 499')
    # Half a body, then gone; a whole one, gone before the answer.
    for sent, length in ((body[:10], len(body) + 100), (body, len(body))):
        with socket.create_connection(("127.0.0.1", running.port)) as raw:
            raw.sendall(head.format(length=length).encode() + sent)
            time.sleep(0.2)
    deadline = time.monotonic() + 10
    while running.log_tail(200_000).count('"status": 499') < before + 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    log = running.log_tail(200_000)
    assert log.count('"status": 499') >= before + 1 and "Traceback" not in log


def test_nothing_was_logged_as_a_traceback(server: tuple[Server, dict[str, str]]) -> None:
    running, _ = server
    assert "Traceback" not in running.log_tail(200_000)
