"""A gateway on a real socket of this machine, graphql-transport-ws clients for it, and a webhook receiver."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy import insert, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route
from websockets.asyncio.client import connect

from resolvers.dispute import tables as dispute_tables
from tests.harness import Gateway


@asynccontextmanager
async def serving(gw: Gateway) -> AsyncIterator[str]:
    """The gateway on a real socket of this machine, for WebSocket clients; yields its ws:// URL."""
    server = uvicorn.Server(uvicorn.Config(gw.app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def subscribed(
    url: str, token: str, query: str, variables: dict[str, Any]
) -> AsyncIterator[Callable[[], Awaitable[dict[str, Any]]]]:
    """A ``graphql-transport-ws`` subscription; yields a function that awaits its next message."""
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        payload = {"query": query, "variables": variables}
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))

        async def receive() -> dict[str, Any]:
            message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
            return message

        yield receive


async def newest_dispute_event(gw: Gateway) -> str:
    """The ID of the dispute outbox's last event: subscribing after it receives only what comes next."""
    async with gw.runtime.databases.session("dispute") as session:
        newest = (
            await session.execute(
                select(dispute_tables.DisputeOutbox.id).order_by(dispute_tables.DisputeOutbox.id.desc())
            )
        ).scalar()
    return f"dispute:{newest or 0}"


async def dispute_event(gw: Gateway, dispute_id: int, grid_id: int) -> None:
    """An event about a dispute written to its outbox, as a committed change would write it."""
    async with gw.runtime.databases.session("dispute") as session, session.begin():
        await session.execute(
            insert(dispute_tables.DisputeOutbox).values(
                topic="dispute",
                type_name="Dispute",
                row_id=dispute_id,
                grid_id=grid_id,
                kind="noted",
                created_at=datetime.now(UTC),
            )
        )


@dataclass
class Receiver:
    """A webhook receiver on loopback: keeps what it was sent, answers with the statuses queued."""

    url: str = ""
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    # Seconds it takes to answer (a slow receiver).
    delay: float = 0.0
    # Answer 200 with a body that never ends (a receiver trying to make the gateway read forever).
    endless: bool = False

    async def endpoint(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        self.arrived.set()
        await asyncio.sleep(self.delay)
        if self.endless:
            return StreamingResponse(_forever(), headers={"Content-Encoding": "gzip"})
        return Response(status_code=self.answers.pop(0) if self.answers else 200)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(body) for _, body in self.received]

    async def until(self, done: Callable[[], bool], within: float = 10.0) -> None:
        deadline = time.monotonic() + within
        while not done():
            self.arrived.clear()
            left = deadline - time.monotonic()
            assert left > 0, f"not received in time: {self.bodies()}"
            with suppress(TimeoutError):
                await asyncio.wait_for(self.arrived.wait(), left)


async def _forever() -> AsyncIterator[bytes]:
    while True:
        yield b"\0" * 65536
        await asyncio.sleep(0.01)


@asynccontextmanager
async def receiving() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hook", receiver.endpoint, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    receiver.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/hook"
    try:
        yield receiver
    finally:
        server.should_exit = True
        await task


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The receiver's check, as README-proposal.md gives it."""
    parts = dict(part.split("=", 1) for part in headers["x-gateway-signature"].split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, parts["v1"])
