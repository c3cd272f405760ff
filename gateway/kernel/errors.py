"""Errors that reach the caller, each with an ``extensions.code``."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class GatewayError(GraphQLError):
    """A GraphQL error whose ``extensions.code`` says what kind of failure it is."""

    code = "INTERNAL"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": self.code, **extensions})


class BadUserInput(GatewayError):
    code = "BAD_USER_INPUT"


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class NotFound(GatewayError):
    code = "NOT_FOUND"


def not_found(type_name: str, argument: str, key: str = "ID") -> NotFound:
    """The one answer for a row that does not exist and for one the caller may not see, everywhere:
    the same code and the same words for both, naming the argument and never the value sent."""
    return NotFound(f"No {type_name} with the {key} given in {argument}", argument=argument)


class Conflict(GatewayError):
    code = "CONFLICT"


class QueryTooComplex(GatewayError):
    code = "QUERY_TOO_COMPLEX"
