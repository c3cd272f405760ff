"""Opaque global IDs (``Type:pk``) and pagination cursors, both base64url text.

A refusal names the argument, never the text it refused: what a caller sends may be personal data.
"""

from __future__ import annotations

import base64
import binascii

from gateway.kernel import BadUserInput


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode(token: str, what: str) -> str:
    try:
        padded = token + "=" * (-len(token) % 4)
        return base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise BadUserInput(f"Malformed {what}", argument=what) from None


def encode_id(type_name: str, pk: int) -> str:
    return _encode(f"{type_name}:{pk}")


def decode_id(global_id: str, expected: str | None = None) -> tuple[str, int]:
    """Split a global ID into its type name and primary key; refuse a malformed one or another type's."""
    type_name, _, pk = _decode(global_id, "ID").partition(":")
    if not type_name or not pk.isdigit() or len(pk) > 18:
        raise BadUserInput("Malformed ID", argument="id")
    if expected is not None and type_name != expected:
        raise BadUserInput(f"The ID is not a {expected} ID", argument="id")
    return type_name, int(pk)


def decode_pk(global_id: str, expected: str) -> int:
    return decode_id(global_id, expected)[1]


def encode_cursor(pk: int, ordering: str | None = None) -> str:
    """A row's cursor: its key, and the ordering it was made under (none for the default, by key)."""
    return _encode(f"cursor:{pk}" if ordering is None else f"cursor:{ordering}:{pk}")


def decode_cursor(cursor: str, ordering: str | None = None, argument: str = "after") -> int:
    """The key of a cursor made under ``ordering``; one made under another ordering is refused."""
    prefix, _, rest = _decode(cursor, "cursor").partition(":")
    tag, _, pk = rest.rpartition(":")
    # A key longer than any real one (e.g. 10²³) is as malformed as letters: it would only fail later, in SQL.
    if prefix != "cursor" or not pk.isdigit() or len(pk) > 18:
        raise BadUserInput("Malformed cursor", argument=argument)
    if (tag or None) != ordering:
        raise BadUserInput(f"The {argument} cursor was made under another orderBy", argument=argument)
    return int(pk)
