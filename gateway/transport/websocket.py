"""Subscriptions over WebSocket, speaking ``graphql-transport-ws``.

The client authenticates in ``connection_init`` (``{"Authorization": "Bearer …"}``), then
subscribes; each subscription runs against the principal's own schema and row scope, so an
event reaches it only when its policy lets it see that row, masked as a query would be.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from typing import Any

from graphql import ExecutionResult, subscribe
from starlette.websockets import WebSocket, WebSocketDisconnect

from gateway.audit import Operation, Touched, audit_entry, current
from gateway.auth import Principal
from gateway.kernel import GatewayError
from gateway.pipeline import Runtime, error_dict, shape_errors

PROTOCOL = "graphql-transport-ws"
log = logging.getLogger("gateway.ws")


class Connection:
    def __init__(self, socket: WebSocket, runtime: Runtime) -> None:
        self.socket = socket
        self.runtime = runtime
        self.principal: Principal | None = None
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
        if message.get("type") != "connection_init":
            await self.socket.close(code=4401, reason="Unauthorized: send connection_init first")
            return False
        payload = message.get("payload") or {}
        header = payload.get("Authorization") or payload.get("authorization")
        try:
            self.principal = await self.runtime.authenticator.authenticate(header)
        except GatewayError as error:
            await self.socket.close(code=4403, reason=f"Forbidden: {error.message}"[:120])
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
        query = payload.get("query")
        if not isinstance(query, str):
            await self.send({"type": "error", "id": ident, "payload": [error_dict("Missing query", "BAD_REQUEST")]})
            return
        executor = self.runtime.executor_for(principal)
        prepared = executor.prepare(query)
        if prepared.document is None:
            await self.send({"type": "error", "id": ident, "payload": list(prepared.errors)})
            return
        operation = executor.operation(prepared.document, payload.get("operationName"))
        if operation is None or operation.operation.value != "subscription":
            message = "Send queries and mutations over HTTP; this socket carries subscriptions"
            await self.send({"type": "error", "id": ident, "payload": [error_dict(message, "BAD_REQUEST")]})
            return
        context = self.runtime.context_for(principal)
        started = subscribe(
            executor.schema,
            prepared.document,
            context_value=context,
            variable_values=payload.get("variables"),
            operation_name=payload.get("operationName"),
        )
        stream = await started if inspect.isawaitable(started) else started
        if isinstance(stream, ExecutionResult):
            await self.send({"type": "error", "id": ident, "payload": shape_errors(stream)})
            return
        name = operation.name.value if operation.name else None
        touched = Touched()
        noted = current.set(touched)
        try:
            async for result in stream:
                body: dict[str, Any] = {"data": result.data}
                if result.errors:
                    body["errors"] = shape_errors(result)
                if context.extensions:
                    body["extensions"] = dict(context.extensions)
                    context.extensions.clear()
                # Each delivered event is a read of personal data like any query's.
                entry = audit_entry(
                    principal,
                    Operation(query, name, "subscription", None),
                    self.runtime.policies.version,
                    prepared.selected,
                    self.runtime.sensitive,
                    touched.rows,
                    redacted=body.get("extensions", {}).get("redacted", ()),
                )
                touched.rows.clear()
                if entry is not None:
                    await self.runtime.audit.append(entry)
                await self.send({"type": "next", "id": ident, "payload": body})
        finally:
            current.reset(noted)
            closing = getattr(stream, "aclose", None)
            if closing is not None:
                await closing()
        await self.send({"type": "complete", "id": ident})


async def websocket_endpoint(socket: WebSocket) -> None:
    runtime: Runtime = socket.app.state.runtime
    if PROTOCOL not in socket.scope.get("subprotocols", []):
        await socket.close(code=4406, reason=f"Subprotocol not acceptable: use {PROTOCOL}")
        return
    await Connection(socket, runtime).serve()
