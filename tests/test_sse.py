"""Subscriptions over Server-Sent Events (graphql-sse) on a real uvicorn, read by a real streaming
HTTP client: the same events as a WebSocket client, the same end on revocation, errors in the stream."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gateway.data import decode_pk
from gateway.transport.sse import MOST_RESERVATIONS
from tests.harness import DEMO, Gateway
from tests.live import dispute_event, newest_dispute_event, serving, subscribed

SUBSCRIPTION = """subscription Live($after: String) {
  disputeUpdated(afterEvent: $after) { eventId kind dispute { id status parties { name phone } } }
}"""
LIST = "{ disputes(first: 100) { nodes { id grid { id } } } }"
WITHIN = 10.0


@pytest.fixture
async def base(gw: Gateway) -> AsyncIterator[str]:
    async with serving(gw) as url:
        yield url.replace("ws://", "http://", 1) + "/stream"


async def _token(gw: Gateway, role: str) -> str:
    record = await gw.runtime.directory.find(DEMO[role])
    assert record is not None
    return await gw.runtime.tokens.issue(record.id, timedelta(hours=1), record.scopes)


class Events:
    """The events of one open stream, parsed as the Server-Sent Events spec reads them."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.queue: asyncio.Queue[tuple[str, Any] | None] = asyncio.Queue()
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        name, data = "message", list[str]()
        try:
            async for line in self.response.aiter_lines():
                if line == "":
                    if data:
                        text = "\n".join(data)
                        self.queue.put_nowait((name, json.loads(text) if text else None))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data.append(line[5:].lstrip(" "))
        finally:
            self.queue.put_nowait(None)

    async def next(self, within: float = WITHIN) -> tuple[str, Any] | None:
        return await asyncio.wait_for(self.queue.get(), within)


@asynccontextmanager
async def streaming(
    client: httpx.AsyncClient, method: str, url: str, token: str | None, **kwargs: Any
) -> AsyncIterator[tuple[httpx.Response, Events]]:
    headers = {"Accept": "text/event-stream", **kwargs.pop("headers", {})}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with client.stream(method, url, headers=headers, **kwargs) as response:
        events = Events(response)
        try:
            yield response, events
        finally:
            events.task.cancel()


async def _visible_and_hidden(gw: Gateway, role: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """(dispute, grid) of a dispute ``role`` sees, and of one it does not."""
    seen = {n["id"] for n in (await gw.query(LIST, role=role))["disputes"]["nodes"]}
    every = (await gw.query(LIST))["disputes"]["nodes"]
    pick = [(decode_pk(n["id"], "Dispute"), decode_pk(n["grid"]["id"], "Grid"), n["id"] in seen) for n in every]
    visible = next((d, g) for d, g, s in pick if s)
    hidden = next((d, g) for d, g, s in pick if not s)
    return visible, hidden


async def test_an_sse_client_receives_what_a_websocket_client_receives(gw: Gateway, base: str) -> None:
    token = await _token(gw, "community_police")
    after = await newest_dispute_event(gw)
    variables = {"after": after}
    visible, hidden = await _visible_and_hidden(gw, "community_police")
    ws_url = base.replace("http://", "ws://", 1).removesuffix("/stream")
    async with (
        httpx.AsyncClient(timeout=WITHIN) as client,
        streaming(client, "POST", base, token, json={"query": SUBSCRIPTION, "variables": variables}) as (
            response,
            events,
        ),
        subscribed(ws_url, token, SUBSCRIPTION, variables) as receive,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        await dispute_event(gw, *hidden)
        await dispute_event(gw, *visible)
        await dispute_event(gw, *visible)
        over_ws = [await receive(), await receive()]
        over_sse = [await events.next(), await events.next()]
    assert [m["type"] for m in over_ws] == ["next", "next"]
    assert [name for name, _ in over_sse] == ["next", "next"]  # type: ignore[misc]
    assert [data for _, data in over_sse] == [m["payload"] for m in over_ws]  # type: ignore[misc]
    dispute = over_sse[0][1]["data"]["disputeUpdated"]["dispute"]  # type: ignore[index]
    assert decode_pk(dispute["id"], "Dispute") == visible[0]


async def test_the_stream_ends_when_its_token_is_revoked(gw: Gateway, base: str) -> None:
    token = await _token(gw, "community_police")
    me = (
        await gw.client.post(
            "/graphql", json={"query": "{ me { tokenId } }"}, headers={"Authorization": f"Bearer {token}"}
        )
    ).json()
    body = {"query": SUBSCRIPTION, "variables": {"after": await newest_dispute_event(gw)}}
    async with (
        httpx.AsyncClient(timeout=WITHIN) as client,
        streaming(client, "POST", base, token, json=body) as (_, events),
    ):
        assert await gw.runtime.tokens.revoke(me["data"]["me"]["tokenId"])
        since = time.monotonic()
        refused = await events.next()
        assert refused is not None and refused[0] == "next"
        assert refused[1]["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await events.next() == ("complete", None)
        assert await events.next() is None  # the server ended the response
        assert time.monotonic() - since < 2.0


async def test_errors_before_execution_arrive_in_the_stream(gw: Gateway, base: str) -> None:
    token = await _token(gw, "committee_staff")
    async with httpx.AsyncClient(timeout=WITHIN) as client:
        for document, code in (
            ("subscription { disputeUpdated { nope } }", "GRAPHQL_VALIDATION_FAILED"),
            ("{ me { id } }", "BAD_REQUEST"),
        ):
            async with streaming(client, "POST", base, token, json={"query": document}) as (response, events):
                assert response.status_code == 200
                first = await events.next()
                assert first is not None and first[0] == "next", first
                assert first[1]["errors"][0]["extensions"]["code"] == code, first
                assert await events.next() == ("complete", None)
        unauthenticated = await client.post(base, json={"query": SUBSCRIPTION}, headers={"Accept": "text/event-stream"})
        assert unauthenticated.status_code == 401
        assert unauthenticated.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        plain = await client.post(base, json={"query": SUBSCRIPTION}, headers={"Authorization": f"Bearer {token}"})
        assert plain.status_code == 406


async def test_single_connection_mode(gw: Gateway, base: str) -> None:
    token = await _token(gw, "community_police")
    visible, _ = await _visible_and_hidden(gw, "community_police")
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(timeout=WITHIN) as client:
        reserved = await client.put(base, headers=auth)
        assert reserved.status_code == 201
        ticket = reserved.text
        # The browser's EventSource sends no headers: the ticket rides in the URL.
        async with streaming(client, "GET", f"{base}?token={ticket}", None) as (response, events):
            assert response.status_code == 200
            second = await client.get(f"{base}?token={ticket}", headers={"Accept": "text/event-stream"})
            assert second.status_code == 409
            operation = {
                "query": SUBSCRIPTION,
                "variables": {"after": await newest_dispute_event(gw)},
                "extensions": {"operationId": "op-1"},
            }
            stream_token = {"X-GraphQL-Event-Stream-Token": ticket}
            stranger = await _token(gw, "committee_staff")
            foreign = await client.post(
                base, json=operation, headers={**stream_token, "Authorization": f"Bearer {stranger}"}
            )
            assert foreign.status_code == 401
            started = await client.post(base, json=operation, headers={**stream_token, **auth})
            assert started.status_code == 202, started.text
            await dispute_event(gw, *visible)
            got = await events.next()
            assert got is not None and got[0] == "next", got
            data = got[1]
            assert data["id"] == "op-1"
            assert decode_pk(data["payload"]["data"]["disputeUpdated"]["dispute"]["id"], "Dispute") == visible[0]
            stopped = await client.delete(f"{base}?operationId=op-1", headers={**stream_token, **auth})
            assert stopped.status_code == 200
            await dispute_event(gw, *visible)
            with pytest.raises(TimeoutError):
                await events.next(within=1.0)


async def test_reservations_are_bounded_and_operations_wait_for_the_open_stream(gw: Gateway, base: str) -> None:
    """Each operation is read and audited per event: none runs on a stream nobody opened, and one
    token cannot pile up reservations."""
    auth = {"Authorization": f"Bearer {await _token(gw, 'community_police')}"}
    operation = {"query": SUBSCRIPTION, "extensions": {"operationId": "early"}}
    async with httpx.AsyncClient(timeout=WITHIN) as client:
        tickets = [(await client.put(base, headers=auth)) for _ in range(MOST_RESERVATIONS + 1)]
        assert [t.status_code for t in tickets] == [201] * MOST_RESERVATIONS + [429]
        early = await client.post(
            base, json=operation, headers={**auth, "X-GraphQL-Event-Stream-Token": tickets[0].text}
        )
        assert early.status_code == 409, early.text
    _reservations_of(gw).clear()


def _reservations_of(gw: Gateway) -> dict[str, object]:
    found: dict[str, object] = gw.app.state.sse_reservations
    return found
