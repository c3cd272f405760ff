"""Overload and bad bodies never give a bare 500: a full pool is a 503 with Retry-After; a body over
the limit a 413; JSON nested too deep a 400; text no database can store BAD_USER_INPUT; a 405 says
what is allowed; a batch is refused with a reason; browsers get CORS and security headers; a
WebSocket with the wrong subprotocol or Origin is told why."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin, Subprotocol

from gateway.transport.body import json_depth
from tests.harness import Gateway, running_gateway
from tests.live import serving


def auth(gw: Gateway, role: str = "city_analyst") -> dict[str, str]:
    return {"Authorization": f"Bearer {gw.tokens[role]}"}


async def post_raw(gw: Gateway, body: bytes, **headers: str) -> httpx.Response:
    sent = {"Content-Type": "application/json", **auth(gw), **headers}
    return await gw.client.post("/graphql", content=body, headers=sent)


def only_error(response: httpx.Response) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/"), response.headers
    (error,) = response.json()["errors"]
    return dict(error)


async def test_a_body_over_the_limit_is_413(gw: Gateway) -> None:
    limit = gw.settings.max_body_bytes
    padding = "x" * limit
    response = await post_raw(gw, json.dumps({"query": "{ me { id } }", "variables": {"p": padding}}).encode())
    assert response.status_code == 413
    assert only_error(response)["message"] == f"Request body over the limit of {limit} bytes"


async def test_a_body_streamed_without_a_length_is_bounded_too(gw: Gateway) -> None:
    async def chunks() -> Any:
        for _ in range(gw.settings.max_body_bytes // 65536 + 2):
            yield b" " * 65536

    sent = {"Content-Type": "application/json", **auth(gw)}
    response = await gw.client.post("/graphql", content=chunks(), headers=sent)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"query": "{ me { id } }", "variables": {"a": ' + b"[" * 10000 + b"]" * 10000 + b"}}",
        b'{"query": "{ me { id } }", "variables": ' + b'{"a": ' * 40 + b"1" + b"}" * 41,
        b"[" * 100000,  # unterminated, deeper than any parser would go
    ],
)
async def test_json_nested_too_deep_is_400_not_a_recursion_error(gw: Gateway, body: bytes) -> None:
    response = await post_raw(gw, body)
    assert response.status_code == 400
    assert only_error(response)["message"].endswith(f"nests deeper than {gw.settings.max_json_depth} levels")


async def test_variables_in_a_get_are_bounded_too(gw: Gateway) -> None:
    deep = "[" * 2000 + "]" * 2000
    response = await gw.client.get("/graphql", params={"query": "{ me { id } }", "variables": deep}, headers=auth(gw))
    assert response.status_code == 400
    assert "nests deeper" in only_error(response)["message"]


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert json_depth(b'{"a": "[[[[{{{{\\"[[["}', 10) == 1
    assert json_depth(b'"\\' + b'\\"' * 1000, 10) == 0


async def test_a_batch_is_refused_with_its_reason(gw: Gateway) -> None:
    response = await post_raw(gw, json.dumps([{"query": "{ me { id } }"}] * 10).encode())
    assert response.status_code == 400
    assert only_error(response) == {
        "message": "Batched requests (a JSON array of operations) are not supported: send one operation per request",
        "extensions": {"code": "BAD_REQUEST"},
    }


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"query": '{ residents(filter: {name: "a\\u0000b"}) { totalCount } }'}, "document"),
        (
            {"query": "query($n: String) { residents(filter: {name: $n}) { totalCount } }", "variables": {"n": "\x00"}},
            "$n",
        ),
        (
            {
                "query": "query($n: String) { residents(filter: {name: $n}) { totalCount } }",
                "variables": {"n": "\ud800"},
            },
            "$n",
        ),
        ({"query": "query Q { me { id } }", "operationName": "Q\x00"}, "operationName"),
        ({"query": "query Q { me { id } }", "operationName": "Q\udfff"}, "operationName"),
        ({"query": "{ me { id } }", "variables": {"\ud800": 1}}, "variables"),
    ],
)
async def test_text_no_database_can_store_is_bad_user_input(gw: Gateway, payload: dict[str, Any], where: str) -> None:
    # ensure_ascii: a lone surrogate travels as \\ud800, as any JSON client would send it.
    response = await post_raw(gw, json.dumps(payload, ensure_ascii=True).encode())
    error = only_error(response)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "argument": where}, error


async def test_a_405_says_what_is_allowed(gw: Gateway) -> None:
    response = await gw.client.put("/graphql", content=b"{}", headers=auth(gw))
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "POST"}
    assert only_error(response)["message"]


async def test_every_response_carries_the_security_headers(gw: Gateway) -> None:
    for response in (
        await gw.post("{ me { id } }"),
        await gw.client.get("/healthz"),
        await gw.client.get("/nowhere"),
        await gw.client.get("/graphiql"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    graphiql = await gw.client.get("/graphiql")
    assert "script-src 'self' 'sha256-" in graphiql.headers["Content-Security-Policy"]
    assert (await gw.post("{ me { id } }")).headers["Cache-Control"] == "no-store"


@pytest.fixture(scope="module")
async def browsers(tmp_path_factory: pytest.TempPathFactory) -> Any:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('cors') / 'gateway.db'}"
    async with running_gateway("sqlite", url, cors_origins="https://app.example.gov.cn, https://ops.example") as gw:
        yield gw


async def test_cors_answers_allowed_origins_only(browsers: Gateway) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    allowed = await browsers.client.options("/graphql", headers={"Origin": "https://app.example.gov.cn", **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.gov.cn"
    assert "authorization" in allowed.headers["Access-Control-Allow-Headers"].lower()
    refused = await browsers.client.options("/graphql", headers={"Origin": "https://evil.example", **preflight})
    assert refused.status_code == 400 and "Access-Control-Allow-Origin" not in refused.headers
    simple = await browsers.post("{ me { id } }", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in simple.headers


async def socket_closed(url: str, **options: Any) -> tuple[int, str]:
    async with connect(url, **options) as socket:
        with pytest.raises(ConnectionClosed) as closed:
            await socket.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_websocket_from_an_origin_not_allowed_is_told_so(browsers: Gateway) -> None:
    async with serving(browsers) as url:
        code, reason = await socket_closed(
            url,
            subprotocols=["graphql-transport-ws"],
            origin="https://evil.example",
        )
        assert (code, reason) == (4403, "Forbidden: this Origin is not allowed")
        origin = Origin("https://ops.example")
        async with connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], origin=origin) as socket:
            await socket.send(json.dumps({"type": "connection_init", "payload": auth(browsers)}))
            assert json.loads(await socket.recv())["type"] == "connection_ack"


async def test_a_websocket_with_another_subprotocol_is_told_which(gw: Gateway) -> None:
    async with serving(gw) as url:
        code, reason = await socket_closed(url, subprotocols=["graphql-ws"])
    assert (code, reason) == (4406, "Subprotocol not acceptable: use graphql-transport-ws")


async def test_a_full_pool_is_503_with_retry_after(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"
    async with running_gateway(
        "sqlite", url, db_pool_size=1, db_max_overflow=0, db_pool_timeout=0.2, principal_cache_seconds=60
    ) as gw:
        assert await gw.query("{ me { id } }", role="grid_worker")  # the principal is cached now
        async with gw.runtime.databases.session("population") as held:
            await held.execute(text("SELECT 1"))  # the pool's one connection, held
            for role in ("grid_worker", "committee_staff"):  # cached principal: fails in execution; else in auth
                response = await gw.post("{ residents(first: 2) { nodes { name } } }", role=role)
                assert response.status_code == 503, response.text
                assert response.headers["Retry-After"] == str(gw.settings.retry_after_seconds)
                assert only_error(response)["extensions"] == {"code": "UNAVAILABLE"}
        assert await gw.query("{ residents(first: 2) { nodes { name } } }", role="grid_worker")
