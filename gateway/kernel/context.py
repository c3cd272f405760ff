"""The per-request context every resolver receives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiodataloader import DataLoader
from strawberry.types import Info as StrawberryInfo

from gateway.kernel.kept import Kept
from gateway.kernel.scope import OpenScope, RowScope
from gateway.kernel.settings import Settings

if TYPE_CHECKING:
    # The kernel is beneath every concern: it names their types, never imports their code.
    from gateway.audit import AuditTrail
    from gateway.auth import Principal
    from gateway.data import Databases
    from gateway.feed import EventSource
    from gateway.policy import Policy

L = TypeVar("L", bound=DataLoader[Any, Any])


@dataclass
class Context:
    principal: Principal
    databases: Databases
    settings: Settings
    # GraphQL type name → fetch one row of it by primary key, for ``node(id:)``.
    nodes: Mapping[str, Callable[[Context, int], Awaitable[Any]]] = field(default_factory=dict)
    scope: RowScope = field(default_factory=OpenScope)
    loaders: dict[Hashable, DataLoader[Any, Any]] = field(default_factory=dict)
    audit: AuditTrail | None = None
    policy: Policy | None = None
    feed: EventSource | None = None
    # Response extensions gathered while resolving (redacted paths, etc.).
    extensions: dict[str, Any] = field(default_factory=dict)
    # What resolvers plan once and keep across the requests of this process (statements compiled
    # for a principal and its policy, say); the runtime shares one among all contexts.
    plans: Kept[Hashable, Any] = field(default_factory=lambda: Kept(64))

    def loader(self, key: Hashable, factory: Callable[[], L]) -> L:
        """One DataLoader per key per request, made on first use."""
        found = self.loaders.get(key)
        if found is None:
            found = self.loaders[key] = factory()
        return found  # type: ignore[return-value]  # keyed by the factory's loader class


Info = StrawberryInfo[Context, None]
