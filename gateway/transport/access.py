"""The gateway's own access log: one line per HTTP request, with no personal data in it.

A line holds the method, the path without its query string, the status, the duration, and,
once the request is authenticated and parsed, the principal and the operation's name and
hash — never a query string, variables or a value (a ``GET /graphql?query=…`` carries the
ID number it looks up in its URL). uvicorn's own access log, which prints the full URL, is off.

    GET /graphql 200 12.4ms principal=analyst.city operation=Roster hash=5f0c…
"""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("gateway.access")
NOTE = "gateway.access"
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
    """Tell the access log who asked and what (principal, operation, operation_hash)."""
    request.scope.setdefault(NOTE, {}).update(found)


def _logger() -> logging.Logger:
    # The server's logging configuration (uvicorn's) knows nothing of this logger: give it a handler.
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


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

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self.log.info(_line(scope, status, time.perf_counter() - started))


def _line(scope: Scope, status: int, seconds: float) -> str:
    found: dict[str, Any] = scope.get(NOTE) or {}
    path = scrubbed(scope.get("path", ""))
    parts = [scrubbed(scope.get("method", "-")), path, str(status), f"{seconds * 1000:.1f}ms"]
    for name in ("principal", "operation"):
        value = found.get(name)
        parts.append(f"{name}={scrubbed(value) if value else '-'}")
    parts.append(f"hash={found.get('hash') or '-'}")
    return " ".join(parts)


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
