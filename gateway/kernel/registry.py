"""What a domain hands the engine: its tables, its root fields, its node types, its reactions to
other domains' events and its parts of rules other domains own."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData

from gateway.kernel.names import graphql_name

if TYPE_CHECKING:
    from gateway.auth import PrincipalDirectory
    from gateway.data import Databases
    from gateway.feed import Event

# Given every event that came in since the last call (one or more, in order): a reaction slower
# than the writers takes a backlog in one go instead of falling further behind event by event.
Reaction = Callable[["Databases", "Sequence[Event]"], Awaitable[None]]


@dataclass(frozen=True)
class Schedule:
    """Work a domain has done on a timer, given the moment it runs for (the runtime's clock, so a
    test can move time on): e.g. letting a grid's risk colour fade as its window passes.

    Every worker runs it, once at start and then every ``every``: it must be idempotent, and
    write (and emit) only what differs from what is stored, so two workers emit one event.
    """

    name: str
    every: timedelta
    run: Callable[[Databases, datetime], Awaitable[None]]


@dataclass(frozen=True)
class Domain:
    """One vertical slice under ``resolvers/``.

    ``query`` is a Strawberry type whose fields become root fields; ``types`` maps each
    GraphQL object type backed by a table to that table and its Strawberry class, which
    is how policies (written in GraphQL names) reach tables, and how ``node(id:)`` finds rows.
    """

    name: str
    metadata: MetaData
    query: type[Any]
    types: Mapping[str, tuple[type[Any], type[Any]]] = field(default_factory=dict)
    mutation: type[Any] | None = None
    subscription: type[Any] | None = None
    # The domain's outbox table (``gateway.outbox.outbox_model``), when it writes events.
    outbox: Any = None
    # Work done when another domain's events arrive: (domain, topic) → handler, run by every
    # worker's feed (e.g. recomputing a grid's risk colour when a dispute changes).
    reactions: Mapping[tuple[str, str], Reaction] = field(default_factory=dict)
    # Work done on a timer by every worker, in the serving process (no external cron).
    schedules: Sequence[Schedule] = ()
    # The folder of the domain's own Alembic revisions (plain ``upgrade()``/``downgrade()``), run
    # against its database only; None: its tables are in the engine's history (``gateway.data.migrate``).
    migrations: Path | None = None
    # What this domain adds to a rule another domain owns, by the rule's name: the owner names the
    # rule and the type of its parts, each contributor declares the parts over its own tables
    # (e.g. the terms of a score summed elsewhere). The engine only gathers them.
    contributions: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    @property
    def sensitive(self) -> dict[str, set[str]]:
        """Type name → the fields its table marks as personal data (``__sensitive__`` columns)."""
        return {
            name: {graphql_name(c) for c in getattr(model, "__sensitive__", ())}
            for name, (model, _) in self.types.items()
        }

    @property
    def tables(self) -> dict[type[Any], str]:
        return {model: name for name, (model, _) in self.types.items()}


@dataclass(frozen=True)
class Registry:
    """Everything the engine needs from ``resolvers``: the domains, where principals come
    from, and how to write demo data."""

    domains: tuple[Domain, ...]
    directory: Callable[[Databases], PrincipalDirectory]
    # (databases, synthetic residents, city scale) → rows written per table.
    seed: Callable[[Databases, int, float], Awaitable[dict[str, int]]]
    # Role → principal ID of its demo principal, for `gateway token demo` and the tests.
    demo_principals: Mapping[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.domains)

    def contributed(self, rule: str) -> tuple[tuple[str, Any], ...]:
        """Every domain's parts of ``rule``, each with the name of the domain that declared it."""
        return tuple((d.name, part) for d in self.domains for part in d.contributions.get(rule, ()))


def load_registry() -> Registry:
    # The one place the engine names the domains' package.
    from resolvers import REGISTRY

    return REGISTRY
