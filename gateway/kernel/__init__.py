"""The kernel every concern stands on: settings, the registry of domains, the request context, errors."""

from __future__ import annotations

from gateway.kernel.context import Context, Info
from gateway.kernel.errors import (
    BadUserInput,
    Conflict,
    Forbidden,
    GatewayError,
    NotFound,
    QueryTooComplex,
    Unauthenticated,
    not_found,
)
from gateway.kernel.kept import Kept
from gateway.kernel.names import graphql_name
from gateway.kernel.registry import Domain, Reaction, Registry, Schedule, load_registry
from gateway.kernel.scope import OpenScope, RowScope, plain_columns
from gateway.kernel.settings import Settings, get_settings
from gateway.kernel.tasks import cancel_all

__all__ = [
    "BadUserInput",
    "Conflict",
    "Context",
    "Domain",
    "Forbidden",
    "GatewayError",
    "Info",
    "Kept",
    "NotFound",
    "OpenScope",
    "QueryTooComplex",
    "Reaction",
    "Registry",
    "RowScope",
    "Schedule",
    "Settings",
    "Unauthenticated",
    "cancel_all",
    "get_settings",
    "graphql_name",
    "load_registry",
    "not_found",
    "plain_columns",
]
