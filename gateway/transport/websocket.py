"""Subscriptions over WebSocket, speaking ``graphql-transport-ws``.

The client authenticates in ``connection_init`` (``{"Authorization": "Bearer …"}``), then
subscribes; each subscription runs against the principal's own schema and row scope, so an
event reaches it only when its policy lets it see that row, masked as a query would be.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.auth import Principal
from gateway.kernel import GatewayError
from gateway.pipeline import GraphQLRequest, Refused, Runtime, authenticate, declared_purpose, error_dict, prepare

PROTOCOL = "graphql-transport-ws"
log = logging.getLogger("gateway.ws")


class Connection:
    def __init__(self, socket: WebSocket, runtime: Runtime) -> None:
        self.socket = socket
        self.runtime = runtime
        self.principal: Principal | None = None
        self.purpose: str | None = None
        self.running: dict[str, asyncio.Task[None]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send_text(json.dumps(message, ensure_ascii=False, default=str))

    async def serve(self) -> None:
        await self.socket.accept(subprotocol=PROTOCOL)
        try:
            init = await asyncio.wait_for(self.socket.receive_text(), timeout=10)
        except (TimeoutError, WebSocketDisconnect):
            await self.socket.close(code=4408, reason="Connection initialisation timeout")
            return
        if not await self._initialise(init):
            return
        try:
            while True:
                await self._handle(json.loads(await self.socket.receive_text()))
        except (WebSocketDisconnect, json.JSONDecodeError):
            pass
        finally:
            for task in self.running.values():
                task.cancel()

    async def _initialise(self, text: str) -> bool:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            await self.socket.close(code=4400, reason="Invalid message")
            return False
        if not isinstance(message, dict) or message.get("type") != "connection_init":
            await self.socket.close(code=4401, reason="Unauthorized: send connection_init first")
            return False
        payload = message.get("payload") or {}
        if not isinstance(payload, dict):
            await self.socket.close(code=4400, reason="connection_init payload must be an object")
            return False
        header = payload.get("Authorization") or payload.get("authorization")
        purpose = payload.get("X-Purpose") or payload.get("x-purpose") or payload.get("purpose")
        self.purpose = declared_purpose(purpose if isinstance(purpose, str) else None)
        try:
            self.principal = await authenticate(self.runtime, header, self.purpose)
        except Refused as refused:
            code = 4403 if refused.reason == "unauthenticated" else 4400
            label = "Forbidden" if code == 4403 else "Bad request"
            await self.socket.close(code=code, reason=f"{label}: {refused.errors[0]['message']}"[:120])
            return False
        await self.send({"type": "connection_ack"})
        return True

    async def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "subscribe":
            ident = str(message.get("id", ""))
            if not ident or ident in self.running:
                await self.socket.close(code=4409, reason=f"Subscriber for {ident} already exists")
                return
            self.running[ident] = asyncio.create_task(self._run(ident, message.get("payload") or {}))
        elif kind == "complete":
            task = self.running.pop(str(message.get("id", "")), None)
            if task is not None:
                task.cancel()
        elif kind == "connection_init":
            await self.socket.close(code=4429, reason="Too many initialisation requests")
        elif kind != "pong":
            await self.socket.close(code=4400, reason=f"Unknown message type {kind!r}")

    async def _run(self, ident: str, payload: dict[str, Any]) -> None:
        assert self.principal is not None
        try:
            await self._stream(ident, payload, self.principal)
        except asyncio.CancelledError:
            raise
        except Refused as refused:
            await self.send({"type": "error", "id": ident, "payload": refused.errors})
        except GatewayError as error:
            await self.send({"type": "error", "id": ident, "payload": [error_dict(error.message, error.code)]})
        except Exception:
            log.exception("subscription %s failed", ident)
            await self.send(
                {"type": "error", "id": ident, "payload": [error_dict("Internal server error", "INTERNAL")]}
            )
        finally:
            self.running.pop(ident, None)

    async def _stream(self, ident: str, payload: dict[str, Any], principal: Principal) -> None:
        query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        if not isinstance(query, str):
            raise Refused.one("invalid", "Missing query", "BAD_REQUEST")
        if variables is not None and not isinstance(variables, dict):
            raise Refused.one("invalid", "variables must be a JSON object", "BAD_REQUEST")
        request = GraphQLRequest(query, variables, name if isinstance(name, str) else None)
        call = await prepare(self.runtime, principal, request, self.purpose)
        if call.type != "subscription":
            message = "Send queries and mutations over HTTP; this socket carries subscriptions"
            raise Refused.one("transport", message, "BAD_REQUEST")
        async for body in call.stream():
            await self.send({"type": "next", "id": ident, "payload": body})
        await self.send({"type": "complete", "id": ident})


async def websocket_endpoint(socket: WebSocket) -> None:
    runtime: Runtime = socket.app.state.runtime
    if PROTOCOL not in socket.scope.get("subprotocols", []):
        await socket.close(code=4406, reason=f"Subprotocol not acceptable: use {PROTOCOL}")
        return
    await Connection(socket, runtime).serve()
