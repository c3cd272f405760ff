"""Subscriptions over WebSocket, speaking ``graphql-transport-ws``.

The client authenticates in ``connection_init`` (``{"Authorization": "Bearer …"}``), then
subscribes; each subscription runs against the principal's own schema and row scope, so an
event reaches it only when its policy lets it see that row, masked as a query would be.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected

from gateway.data import PoolExhausted
from gateway.kernel import GatewayError
from gateway.pipeline import (
    BUSY,
    GraphQLRequest,
    LiveSession,
    Overloaded,
    Refused,
    Runtime,
    declared_purpose,
    document_reference,
    error_dict,
    prepare,
)

PROTOCOL = "graphql-transport-ws"
log = logging.getLogger("gateway.ws")


class Connection:
    def __init__(self, socket: WebSocket, runtime: Runtime) -> None:
        self.socket = socket
        self.runtime = runtime
        self.session: LiveSession | None = None
        self.running: dict[str, asyncio.Task[None]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send_text(json.dumps(message, ensure_ascii=False, default=str))

    async def serve(self) -> None:
        await self.socket.accept(subprotocol=PROTOCOL)
        try:
            init = await asyncio.wait_for(self.socket.receive_text(), timeout=10)
        except WebSocketDisconnect:
            return  # the client went away before saying anything: nothing to close, nothing to log
        except TimeoutError:
            await self.socket.close(code=4408, reason="Connection initialisation timeout")
            return
        if not await self._initialise(init):
            return
        assert self.session is not None
        watchdog = asyncio.create_task(self.session.watch(self._end))
        try:
            while True:
                message = await self._receive()
                if message is None:
                    break
                await self._handle(message)
        except (WebSocketDisconnect, RuntimeError):
            # RuntimeError: the session was ended (closed by us) while waiting for the next message.
            pass
        finally:
            watchdog.cancel()
            for task in self.running.values():
                task.cancel()

    async def _receive(self) -> dict[str, Any] | None:
        """The next message; one that is not a JSON object (or a binary frame) closes with 4400."""
        raw = await self.socket.receive()
        if raw["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(raw.get("code", 1000))
        try:
            message = json.loads(raw.get("text") or "")
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict):
            await self.socket.close(code=4400, reason="Invalid message: send a JSON object as text")
            return None
        return message

    async def _end(self, refused: Refused) -> None:
        """The token is refused now (revoked, expired, principal disabled): no further event goes out."""
        for task in list(self.running.values()):
            task.cancel()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.socket.close(code=4403, reason=f"Forbidden: {refused.errors[0]['message']}"[:120])

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
        if purpose is not None and not isinstance(purpose, str):
            await self.socket.close(code=4400, reason="Bad request: X-Purpose must be a string")
            return False
        try:
            declared = declared_purpose(purpose)
            self.session = LiveSession(self.runtime, header if isinstance(header, str) else None, declared)
            await self.session.open()
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
            payload = message.get("payload") or {}
            if not isinstance(payload, dict):
                await self.socket.close(code=4400, reason="subscribe payload must be an object")
                return
            most = self.runtime.settings.max_subscriptions
            if len(self.running) >= most:
                refusal = error_dict(f"At most {most} subscriptions may run on one socket", "RATE_LIMITED")
                await self.send({"id": ident, "type": "error", "payload": [refusal]})
                return
            self.running[ident] = asyncio.create_task(self._run(ident, payload))
        elif kind == "complete":
            task = self.running.pop(str(message.get("id", "")), None)
            if task is not None:
                task.cancel()
        elif kind == "connection_init":
            await self.socket.close(code=4429, reason="Too many initialisation requests")
        elif kind != "pong":
            await self.socket.close(code=4400, reason=f"Unknown message type {kind!r}")

    async def _run(self, ident: str, payload: dict[str, Any]) -> None:
        try:
            await self._reply(ident, payload)
        except (WebSocketDisconnect, WebSocketDisconnected, ConnectionError):
            # The client went away mid-stream: nobody to tell, nothing to log.
            pass
        finally:
            self.running.pop(ident, None)

    async def _reply(self, ident: str, payload: dict[str, Any]) -> None:
        assert self.session is not None
        try:
            await self._stream(ident, payload, self.session)
        except (asyncio.CancelledError, WebSocketDisconnect, WebSocketDisconnected, ConnectionError):
            raise
        except Refused as refused:
            if refused.reason == "unauthenticated":
                self.running.pop(ident, None)
                await self._end(refused)
                return
            await self.send({"type": "error", "id": ident, "payload": refused.errors})
        except GatewayError as error:
            await self.send({"type": "error", "id": ident, "payload": [error_dict(error.message, error.code)]})
        except (PoolExhausted, Overloaded):
            await self.send({"type": "error", "id": ident, "payload": [error_dict(BUSY, "UNAVAILABLE")]})
        except Exception:
            log.exception("subscription %s failed", ident)
            await self.send(
                {"type": "error", "id": ident, "payload": [error_dict("Internal server error", "INTERNAL")]}
            )

    async def _stream(self, ident: str, payload: dict[str, Any], session: LiveSession) -> None:
        query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
        try:
            # A document by hash, as over HTTP (see gateway.pipeline.documents).
            document_id, automatic = document_reference(payload.get("documentId"), payload.get("extensions"))
        except ValueError as error:
            raise Refused.one("invalid", str(error), "BAD_REQUEST") from None
        if query is None and document_id is not None:
            query = ""
        if not isinstance(query, str):
            raise Refused.one("invalid", "Missing query", "BAD_REQUEST")
        if variables is not None and not isinstance(variables, dict):
            raise Refused.one("invalid", "variables must be a JSON object", "BAD_REQUEST")
        request = GraphQLRequest(query, variables, name if isinstance(name, str) else None, document_id, automatic)
        call = await prepare(self.runtime, session.principal, request, session.purpose)
        if call.type != "subscription":
            message = "Send queries and mutations over HTTP; this socket carries subscriptions"
            raise Refused.one("transport", message, "BAD_REQUEST")
        async for body in call.stream(session):
            await self.send({"type": "next", "id": ident, "payload": body})
        await self.send({"type": "complete", "id": ident})


def origin_allowed(socket: WebSocket, allowed: tuple[str, ...]) -> bool:
    """A browser names the page's origin: it must be this gateway's own or one allowed for CORS.
    Clients that are not browsers send no Origin and are judged by their token alone."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True
    origin = origin.rstrip("/")
    if origin in allowed or "*" in allowed:
        return True
    return origin.split("://", 1)[-1] == socket.headers.get("host")


async def websocket_endpoint(socket: WebSocket) -> None:
    runtime: Runtime = socket.app.state.runtime
    # Accepted, then closed with the reason: a bare 403 at the handshake would tell the client nothing.
    if not origin_allowed(socket, runtime.settings.allowed_origins):
        await socket.accept()
        await socket.close(code=4403, reason="Forbidden: this Origin is not allowed")
        return
    if PROTOCOL not in socket.scope.get("subprotocols", []):
        await socket.accept()
        await socket.close(code=4406, reason=f"Subprotocol not acceptable: use {PROTOCOL}")
        return
    await Connection(socket, runtime).serve()
