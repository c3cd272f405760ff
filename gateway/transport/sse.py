"""Subscriptions over Server-Sent Events at ``/graphql/stream``, speaking the ``graphql-sse`` protocol.

For phones behind proxies that will not pass a WebSocket. Authentication, purpose, per-event
reading (row scope, masks, audit) and the end on revocation are the socket's: each stream is a
``LiveSession``, re-authorised before each event and on a beat, and every event runs through
the one pipeline.

Distinct connections mode: ``POST`` (or ``GET``) with ``Accept: text/event-stream`` and the
operation; the answer is the stream (``event: next`` per result, ``event: complete`` at the end).
Errors found before execution arrive as a ``next`` event, as the protocol asks.

Single connection mode: ``PUT`` reserves a stream (201, a one-time token in the body); ``GET`` or
``POST`` with ``Accept: text/event-stream`` and the token (``X-GraphQL-Event-Stream-Token`` or
``?token=``) opens it; ``POST`` with the token and ``extensions.operationId`` starts an operation
whose results go through that stream (202); ``DELETE ?operationId=`` stops one. Reservations are
held by the worker that made them: behind several workers this mode needs sticky routing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from gateway.data import PoolExhausted
from gateway.kernel import GatewayError
from gateway.pipeline import (
    BUSY,
    Call,
    GraphQLRequest,
    LiveSession,
    Overloaded,
    Refused,
    Runtime,
    declared_purpose,
    error_dict,
    header_value,
    prepare,
)
from gateway.transport.access import note
from gateway.transport.http import RequestError, read_params, request_of

log = logging.getLogger("gateway.sse")
EVENT_STREAM = "text/event-stream"
TOKEN_HEADER = "x-graphql-event-stream-token"
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# A reservation not taken up within this many seconds is dropped.
RESERVATION_SECONDS = 60.0
# Reservations one principal may hold at once (operations per stream: GATEWAY_MAX_SUBSCRIPTIONS).
MOST_RESERVATIONS = 5
SUBSCRIPTIONS_ONLY = "Send queries and mutations over HTTP; this stream carries subscriptions"

End = None


def message(event: str, data: Any = None) -> str:
    body = "" if data is None else json.dumps(data, ensure_ascii=False, default=str)
    return f"event: {event}\ndata: {body}\n\n"


def _failure(error: BaseException) -> list[dict[str, Any]]:
    """The errors an operation that stopped with ``error`` hands back (nothing internal)."""
    if isinstance(error, Refused):
        return error.errors
    if isinstance(error, GatewayError):
        return [error_dict(error.message, error.code)]
    if isinstance(error, PoolExhausted | Overloaded):
        return [error_dict(BUSY, "UNAVAILABLE")]
    log.error("subscription over SSE failed", exc_info=error)
    return [error_dict("Internal server error", "INTERNAL")]


async def _results(
    runtime: Runtime, session: LiveSession, request: GraphQLRequest | Call
) -> AsyncIterator[dict[str, Any]]:
    """The results of one subscription in a live session; a failure is the last result."""
    try:
        call = (
            request
            if isinstance(request, Call)
            else await prepare(runtime, session.principal, request, session.purpose)
        )
        if call.type != "subscription":
            raise Refused.one("transport", SUBSCRIPTIONS_ONLY, "BAD_REQUEST")
        async for body in call.stream(session):
            yield body
    except asyncio.CancelledError:
        raise
    except Exception as error:
        yield {"errors": _failure(error)}


@dataclass
class Stream:
    """One event stream: what the operations put, the response writes; ``End`` ends it."""

    runtime: Runtime
    session: LiveSession
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    operations: dict[str, asyncio.Task[None]] = field(default_factory=dict)

    def start(self, ident: str | None, request: GraphQLRequest | Call, last: bool) -> None:
        """Run an operation into the stream (``ident`` names it in single connection mode); ``last``:
        the stream ends with it (distinct connections mode)."""
        self.operations[ident or ""] = asyncio.get_running_loop().create_task(self._pump(ident, request, last))

    def stop(self, ident: str) -> bool:
        task = self.operations.pop(ident, None)
        if task is not None:
            task.cancel()
        return task is not None

    async def _pump(self, ident: str | None, request: GraphQLRequest | Call, last: bool) -> None:
        async for body in _results(self.runtime, self.session, request):
            self.queue.put_nowait(message("next", body if ident is None else {"id": ident, "payload": body}))
        self.queue.put_nowait(message("complete", None if ident is None else {"id": ident}))
        self.operations.pop(ident or "", None)
        if last:
            self.queue.put_nowait(End)

    async def _refused(self, refused: Refused) -> None:
        """The token is refused now: every operation stops, is told why, and the stream ends."""
        for ident, task in list(self.operations.items()):
            task.cancel()
            body = {"errors": refused.errors}
            self.queue.put_nowait(message("next", body if not ident else {"id": ident, "payload": body}))
            self.queue.put_nowait(message("complete", None if not ident else {"id": ident}))
        self.operations.clear()
        self.queue.put_nowait(End)

    async def lines(self, on_end: Callable[[], Awaitable[None]] | None = None) -> AsyncIterator[str]:
        watchdog = asyncio.create_task(self.session.watch(self._refused))
        keepalive = self.runtime.settings.sse_keepalive_seconds
        try:
            # Opens the stream at once, so the client knows it is connected before any event.
            yield ": connected\n\n"
            while True:
                try:
                    item = await asyncio.wait_for(self.queue.get(), keepalive)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if item is End:
                    return
                yield item
        finally:
            watchdog.cancel()
            for task in self.operations.values():
                task.cancel()
            self.operations.clear()
            if on_end is not None:
                await on_end()


@dataclass
class Reservation:
    stream: Stream
    authorization: str
    made: float = field(default_factory=time.monotonic)
    taken: bool = False


def _reservations(request: Request) -> dict[str, Reservation]:
    found: dict[str, Reservation] | None = getattr(request.app.state, "sse_reservations", None)
    if found is None:
        found = request.app.state.sse_reservations = {}
    return found


def _json(errors: list[dict[str, Any]], status: int, **headers: str) -> Response:
    return JSONResponse({"errors": errors}, status_code=status, headers=headers or None)


def _refusal(refused: Refused) -> Response:
    if refused.reason == "unauthenticated":
        return _json(refused.errors, 401, **{"WWW-Authenticate": 'Bearer realm="gateway"'})
    if refused.reason == "limited":
        return _json(refused.errors, 429, **{"Retry-After": str(refused.retry_after or 60)})
    return _json(refused.errors, 400)


def _streaming(lines: AsyncIterator[str]) -> Response:
    return StreamingResponse(lines, media_type=EVENT_STREAM, headers=STREAM_HEADERS)


async def _session(request: Request, runtime: Runtime) -> tuple[LiveSession, str]:
    purpose = declared_purpose(request.headers.get("x-purpose"))
    authorization = header_value("Authorization", request.headers.get("authorization")) or ""
    session = LiveSession(runtime, authorization, purpose)
    await session.open()
    note(request, principal=session.principal.id, role=session.principal.role)
    return session, authorization


async def sse_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    _prune(_reservations(request))
    token = request.headers.get(TOKEN_HEADER) or request.query_params.get("token")
    wants_stream = EVENT_STREAM in request.headers.get("accept", "")
    try:
        if request.method == "PUT":
            return await _reserve(request, runtime)
        if token is not None:
            return await _single(request, runtime, token, wants_stream)
        if request.method == "DELETE":
            return _json([error_dict("Name the stream: send X-GraphQL-Event-Stream-Token", "BAD_REQUEST")], 400)
        if not wants_stream:
            message = f"Ask for the event stream: send Accept: {EVENT_STREAM}"
            return _json([error_dict(message, "BAD_REQUEST")], 406)
        if request.method == "GET" and not runtime.settings.get_allowed:
            # As on /graphql; a browser's EventSource uses a reservation's ticket instead (single connection mode).
            message = "Send the operation with POST: GET is turned off here"
            return _json([error_dict(message, "BAD_REQUEST")], 405, Allow="POST, PUT")
        return await _distinct(request, runtime)
    except Refused as refused:
        return _refusal(refused)
    except RequestError as error:
        return _json([error_dict(error.message, "BAD_REQUEST")], error.status)


async def _distinct(request: Request, runtime: Runtime) -> Response:
    session, _ = await _session(request, runtime)
    stream = Stream(runtime, session)
    try:
        operation = request_of(await read_params(request, runtime.settings), runtime.settings)
    except RequestError as error:
        # Before execution, but after the stream is accepted: told through the stream.
        stream.queue.put_nowait(message("next", {"errors": [error_dict(error.message, "BAD_REQUEST")]}))
        stream.queue.put_nowait(message("complete"))
        stream.queue.put_nowait(End)
        return _streaming(stream.lines())
    stream.start(None, operation, last=True)
    return _streaming(stream.lines())


def _prune(reservations: dict[str, Reservation]) -> None:
    """Drop the reservations never opened in time (asked on every request to the endpoint)."""
    now = time.monotonic()
    for key, held in list(reservations.items()):
        if not held.taken and now - held.made > RESERVATION_SECONDS:
            del reservations[key]


async def _reserve(request: Request, runtime: Runtime) -> Response:
    session, authorization = await _session(request, runtime)
    reservations = _reservations(request)
    held = sum(1 for r in reservations.values() if r.stream.session.principal.id == session.principal.id)
    if held >= MOST_RESERVATIONS:
        message = f"At most {MOST_RESERVATIONS} streams may be reserved or open at once; close one first"
        return _json([error_dict(message, "RATE_LIMITED")], 429, **{"Retry-After": str(int(RESERVATION_SECONDS))})
    token = secrets.token_urlsafe(24)
    reservations[token] = Reservation(Stream(runtime, session), authorization)
    return PlainTextResponse(token, status_code=201)


async def _single(request: Request, runtime: Runtime, token: str, wants_stream: bool) -> Response:
    reservations = _reservations(request)
    held = reservations.get(token)
    if held is None:
        return _json([error_dict("No such stream reservation", "NOT_FOUND")], 404)
    if wants_stream and request.method in ("GET", "POST"):
        if held.taken:
            return _json([error_dict("This reservation's stream is open already", "CONFLICT")], 409)
        held.taken = True

        async def ended() -> None:
            reservations.pop(token, None)

        return _streaming(held.stream.lines(ended))
    # Operations and stops must come from the token that made the reservation, not the stream token alone.
    authorization = header_value("Authorization", request.headers.get("authorization")) or ""
    if not hmac.compare_digest(authorization.encode(), held.authorization.encode()):
        message = "Send the Authorization header the stream was reserved with"
        return _json([error_dict(message, "UNAUTHENTICATED")], 401)
    if request.method == "DELETE":
        held.stream.stop(request.query_params.get("operationId", ""))
        return Response(status_code=200)
    if request.method != "POST":
        return _json([error_dict("Use POST to start an operation", "BAD_REQUEST")], 405)
    params = await read_params(request, runtime.settings)
    extensions = params.get("extensions")
    if isinstance(extensions, str):
        with contextlib.suppress(json.JSONDecodeError):
            extensions = json.loads(extensions)
    named = extensions.get("operationId") if isinstance(extensions, dict) else None
    if not isinstance(named, str) or not named:
        return _json([error_dict("Name the operation: extensions.operationId", "BAD_REQUEST")], 400)
    ident = named
    if not held.taken:
        return _json([error_dict("Open the reserved stream before starting operations on it", "CONFLICT")], 409)
    if ident in held.stream.operations:
        return _json([error_dict("That operationId is running already", "CONFLICT")], 409)
    most = runtime.settings.max_subscriptions
    if len(held.stream.operations) >= most:
        return _json([error_dict(f"At most {most} operations may run on one stream", "RATE_LIMITED")], 429)
    operation = request_of(params, runtime.settings)
    # The token as of now (revoked, expired, principal disabled: refused), then the document, checked
    # here so that one that cannot run is answered as GraphQL over HTTP answers it.
    await held.stream.session.confirm()
    call = await prepare(runtime, held.stream.session.principal, operation, held.stream.session.purpose)
    if call.type != "subscription":
        return _json([error_dict(SUBSCRIPTIONS_ONLY, "BAD_REQUEST")], 405, Allow="POST")
    held.stream.start(ident, call, last=False)
    return Response(status_code=202)
