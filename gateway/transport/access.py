"""The gateway's own access log: one JSON line per HTTP request, with no personal data in it.

A line holds a request id (the caller's ``X-Request-Id`` when it is a plain token, else a new
one; either way returned in the ``X-Request-Id`` header), the method, the path without its query
string, the status, the duration, and, once the request is authenticated and parsed, the
principal, its role, the operation's name and hash, the trusted document's client and the
outcome — never a query string, variables or a value (a ``GET /graphql?query=…`` carries the ID
number it looks up in its URL). uvicorn's own access log, which prints the full URL, is off.

    {"ts": "2026-12-02T14:05:09.120Z", "log": "gateway.access", "request_id": "5f1c…", "method": "GET",
     "path": "/graphql", "status": 200, "ms": 12.4, "principal": "analyst.city", "role": "city_analyst",
     "operation": "Roster", "hash": "5f0c…", "outcome": "ok"}

The same middleware counts each request for ``/metrics`` (see ``gateway.ops.metrics``).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.ops import REQUEST_SECONDS, REQUESTS, labelled, operation_label

log = logging.getLogger("gateway.access")
NOTE = "gateway.access"
REQUEST_ID = "gateway.request_id"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
ROUTES = frozenset({"/graphql", "/graphql/stream", "/graphiql", "/healthz", "/readyz", "/metrics", "/"})
# A path or an operation name is the caller's text too: where it holds six digits or more, in one
# run or split by separators (an ID number or phone typed in), no digit of it is logged.
_DIGIT = re.compile(r"\d")
MOST_DIGITS = 5


def scrubbed(text: str) -> str:
    """``text`` as a log line may hold it: one field of one line (no space, control or invisible
    character, which could forge a field or a line or hide text) and no number that could be an
    ID number or a phone."""
    if len(_DIGIT.findall(text)) > MOST_DIGITS:
        text = _DIGIT.sub("#", text)
    return "".join(ch if ch.isprintable() and not ch.isspace() else "%20" if ch == " " else "?" for ch in text)


def note(request: Request, **found: str | None) -> None:
    """Tell the access log who asked and what (principal, role, operation, hash, document, outcome)."""
    request.scope.setdefault(NOTE, {}).update(found)


def request_id(scope: Scope) -> str | None:
    """The id of the request in ``scope``, as logged and returned in ``X-Request-Id``."""
    found = scope.get(REQUEST_ID)
    return str(found) if found else None


def _logger() -> logging.Logger:
    # The server's logging configuration (uvicorn's) knows nothing of this logger: give it a handler.
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def _incoming_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text = bytes(value).decode("latin-1")
            if _REQUEST_ID.match(text) and len(_DIGIT.findall(text)) <= MOST_DIGITS:
                return text
    return os.urandom(16).hex()


class AccessLog:
    """ASGI middleware writing one access line per HTTP request; other scopes pass through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.log = _logger()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        scope[NOTE] = {}
        ident = scope[REQUEST_ID] = _incoming_id(scope)

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = dict(message, headers=[*message.get("headers", ()), (b"x-request-id", ident.encode())])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            seconds = time.perf_counter() - started
            self.log.info(_line(scope, ident, status, seconds))
            _count(scope, status, seconds)


def _count(scope: Scope, status: int, seconds: float) -> None:
    path = scope.get("path", "")
    route = path if path in ROUTES else "other"
    labelled(REQUEST_SECONDS, route, scope.get("method", "-"), f"{status // 100}xx").observe(seconds)
    found: dict[str, Any] = scope.get(NOTE) or {}
    if path == "/graphql" and found.get("role"):
        outcome = found.get("outcome") or ("ok" if status < 400 else "error")
        labelled(REQUESTS, operation_label(found.get("operation")), found["role"], outcome).inc()


def _line(scope: Scope, ident: str, status: int, seconds: float) -> str:
    found: dict[str, Any] = scope.get(NOTE) or {}
    line: dict[str, Any] = {
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "log": "gateway.access",
        "request_id": ident,
        "method": scrubbed(scope.get("method", "-")),
        "path": scrubbed(scope.get("path", "")),
        "status": status,
        "ms": round(seconds * 1000, 1),
    }
    for name in ("principal", "role", "operation", "hash", "document", "outcome"):
        value = found.get(name)
        if value:
            line[name] = scrubbed(value) if name in ("principal", "operation") else value
    return json.dumps(line, ensure_ascii=False)


class WithoutQueryStrings(logging.Filter):
    """uvicorn still logs each WebSocket handshake with its URL (``"WebSocket /graphql?…" [accepted]``);
    this filter, on uvicorn's error logger, cuts the query string from any path it logs and scrubs
    the rest as the access log does."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                scrubbed(arg.split("?", 1)[0]) if isinstance(arg, str) and arg.startswith("/") else arg
                for arg in record.args
            )
        return True


def keep_query_strings_out_of_server_logs() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, WithoutQueryStrings) for f in logger.filters):
        logger.addFilter(WithoutQueryStrings())
