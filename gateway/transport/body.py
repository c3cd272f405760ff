"""A request body read within bounds: no more than ``GATEWAY_MAX_BODY_BYTES``, JSON no deeper than
``GATEWAY_MAX_JSON_DEPTH`` — measured before the parser sees it, so a body of ten thousand nested
brackets is a 400, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import ClientDisconnect, Request

# A JSON string (escapes included; unterminated, to the end), whose brackets are text, or a bracket.
# The string is taken whole even when unterminated, so no text is scanned twice.
_TOKEN = re.compile(rb'"(?:[^"\\]++|\\.)*+"?|[\[\]{}]', re.S)


class BodyError(Exception):
    """A body refused before it is parsed; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


class Disconnected(Exception):
    """The client went away while its body was being read: nobody is left to answer."""


async def bounded_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it is known to be larger than ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyError(f"Request body over the limit of {limit} bytes", 413)
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyError(f"Request body over the limit of {limit} bytes", 413)
            chunks.append(chunk)
    except ClientDisconnect:
        raise Disconnected from None
    return b"".join(chunks)


def json_depth(text: bytes, stop: int) -> int:
    """How deeply arrays and objects nest in ``text`` (strings skipped), counting no further than
    past ``stop``; linear, no recursion."""
    deepest = depth = 0
    for token in _TOKEN.finditer(text):
        first = token.group()[:1]
        if first in (b"[", b"{"):
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > stop:
                    break
        elif first in (b"]", b"}"):
            depth -= 1
    return deepest


def bounded_json(text: bytes | str, max_depth: int, what: str = "Request body") -> Any:
    """``text`` parsed as JSON, refused (400) when it is not JSON or nests deeper than ``max_depth``."""
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if json_depth(raw, max_depth) > max_depth:
        raise BodyError(f"{what} nests deeper than {max_depth} levels", 400)
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise BodyError(f"{what} is not valid JSON", 400) from None
