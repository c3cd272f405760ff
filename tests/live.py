"""A gateway on a real socket of this machine, and graphql-transport-ws clients for it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from sqlalchemy import insert, select
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
