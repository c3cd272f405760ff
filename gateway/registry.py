"""What a domain hands the engine: its tables, its root fields and its node types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import MetaData

from gateway.db import Databases
from gateway.node import NodeFetcher
from gateway.principal import PrincipalDirectory


@dataclass(frozen=True)
class Domain:
    """One vertical slice under ``resolvers/``.

    ``query`` is a Strawberry type whose fields become root fields; ``nodes`` maps a
    GraphQL type name to the function that fetches one of its rows by primary key,
    for ``node(id:)``.
    """

    name: str
    metadata: MetaData
    query: type[Any]
    nodes: Mapping[str, NodeFetcher] = field(default_factory=dict)
    mutation: type[Any] | None = None


@dataclass(frozen=True)
class Registry:
    """Everything the engine needs from ``resolvers``: the domains, where principals come
    from, and how to write demo data."""

    domains: tuple[Domain, ...]
    directory: Callable[[Databases], PrincipalDirectory]
    seed: Callable[[Databases, int], Awaitable[dict[str, int]]]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.domains)


def load_registry() -> Registry:
    # The one place the engine names the domains' package.
    from resolvers import REGISTRY

    return REGISTRY
