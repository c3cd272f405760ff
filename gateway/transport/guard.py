"""What every HTTP response carries, and what no request may end in.

``SecurityHeaders`` adds the headers a browser needs to keep the gateway's answers to itself:
no sniffing, no referrer, no framing, a Content-Security-Policy on whatever has none of its own
(GraphiQL brings its own), and ``no-store`` on answers that may hold personal data.

``LastResort`` is the net under everything: an exception no handler caught becomes a GraphQL
error body (``INTERNAL``, no details; ``UNAVAILABLE`` with ``Retry-After`` when no database
connection came free), never a bare ``text/plain`` 500. A client that went away is not an error:
it is noted, quietly.
"""

from __future__ import annotations

import json
import logging

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.data import PoolExhausted
from gateway.pipeline import BUSY, Overloaded

log = logging.getLogger("gateway.http")

# The page GraphiQL is served from sets its own policy; everything else loads nothing at all.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
HEADERS = {
    b"x-content-type-options": b"nosniff",
    b"referrer-policy": b"no-referrer",
    b"x-frame-options": b"DENY",
    b"content-security-policy": API_CSP.encode(),
    b"cache-control": b"no-store",
}
# The request headers a browser front-end on an allowed origin may send (CORS).
CORS_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Purpose",
    "Idempotency-Key",
    "X-GraphQL-Event-Stream-Token",
)
# GraphiQL's files are the same for everyone: they may be cached.
CACHEABLE = "/graphiql/assets/"


class SecurityHeaders:
    """ASGI middleware adding ``HEADERS`` to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(CACHEABLE)

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for name, value in HEADERS.items():
                    if name not in present and not (cacheable and name == b"cache-control"):
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


class LastResort:
    """ASGI middleware: any exception that escapes the app is answered as a GraphQL error."""

    def __init__(self, app: ASGIApp, retry_after: int = 5) -> None:
        self.app = app
        self.retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except (ClientDisconnect, ConnectionError):
            log.info("client went away: %s %s", scope.get("method"), scope.get("path"))
        except (PoolExhausted, Overloaded) as error:
            if not started:
                message = error.message if isinstance(error, Overloaded) else BUSY
                code = error.code if isinstance(error, Overloaded) else "UNAVAILABLE"
                await _answer(send, 503, message, code, [(b"retry-after", str(self.retry_after).encode())])
        except Exception:
            log.exception("unhandled error in %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await _answer(send, 500, "Internal server error", "INTERNAL", [])


async def _answer(send: Send, status: int, message: str, code: str, extra: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
