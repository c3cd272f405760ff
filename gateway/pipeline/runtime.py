"""What one running gateway holds: databases, policies, one executor per policy, authenticator."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Hashable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from graphql import DocumentNode, GraphQLSchema
from sqlalchemy.exc import DBAPIError

from gateway.audit import AuditTrail, Probe
from gateway.auth import TOKEN_DOMAIN, Authenticator, Principal, TokenService
from gateway.compile import ReadCompiler
from gateway.data import Databases, counting_restored, counts_of
from gateway.documents import AutomaticDocuments, DocumentStore
from gateway.feed import Feed
from gateway.kernel import Context, Kept, OpenScope, Reaction, Registry, RowScope, Schedule, Settings, cancel_all
from gateway.ops import Tracing, limiter_for, tracer
from gateway.pipeline.admission import Admission
from gateway.pipeline.execution import Executor
from gateway.pipeline.limits import Limits
from gateway.pipeline.rates import RateGuard
from gateway.policy import BUDGETS, Attributes, LookupBudgets, Policy, PolicyScope, PolicySet, load_policies
from gateway.schema import build_schema, build_subgraph, node_fetcher
from gateway.write import IdempotencyStore, sealing_key

NO_GRANTS = Policy(name="none", types={})
# The least time between two turns of one reaction (seconds).
REACTION_GAP = 0.1

log = logging.getLogger("gateway.runtime")


class Runtime:
    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.databases = Databases(settings, (TOKEN_DOMAIN, *registry.names))
        self.tokens = TokenService(settings, self.databases)
        self.audit = AuditTrail(self.databases)
        self.idempotency = IdempotencyStore(self.databases, sealing_key(settings.signing_key()))
        outboxes = {d.name: d.outbox for d in registry.domains if d.outbox is not None}
        self.feed = Feed(self.databases, outboxes, settings.feed_poll_seconds, settings.redis_url)
        self.directory = registry.directory(self.databases)
        self.authenticator = Authenticator(self.tokens, self.directory, settings.principal_cache_seconds)
        self.nodes = {
            name: node_fetcher(model, cls) for d in registry.domains for name, (model, cls) in d.types.items()
        }
        self.type_names: dict[type[Any], str] = {m: n for d in registry.domains for m, n in d.tables.items()}
        self.models: dict[str, type[Any]] = {n: m for m, n in self.type_names.items()}
        self.full_schema = build_schema(registry.domains, zone=settings.zone)
        self.full_executor = Executor(self.full_schema._schema, Limits.of(settings))
        self.attributes = Attributes.of(registry.domains)
        self.compiler = ReadCompiler(self.models, self.attributes)
        # The audit probes of a parsed document run with the same variables (see pipeline.operation).
        self.probes: Kept[Hashable, tuple[DocumentNode, tuple[Probe, ...]]] = Kept(1024)
        self.plans: Kept[Hashable, Any] = Kept(512)
        self.sensitive = {name: fields for d in registry.domains for name, fields in d.sensitive.items()}
        self._executors: dict[str, Executor] = {}
        self._partner_policies: dict[tuple[str, ...], Policy] = {}
        self._reactions: list[asyncio.Task[None]] = []
        # What "now" is for scheduled work; tests hand in a clock of their own to pass days at once.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.admission = Admission(settings.heavy_cost, settings.heavy_slots)
        # The set in force before the last reload that changed it (for /policies' diff).
        self.previous_policies: PolicySet | None = None
        self.policies = self.load(Path(settings.policy_dir))
        # Operations (README "Operations"): trusted documents, rate limits, traces.
        self.documents = DocumentStore(self.databases)
        self.automatic_documents = AutomaticDocuments(settings.apq_cache_size)
        self.rates = RateGuard(limiter_for(settings.redis_url, settings.rate_limit_namespace))
        # Look-up budgets: this process's store, or with Redis one every worker shares.
        shared = limiter_for(settings.redis_url, f"{settings.rate_limit_namespace}:lookups", exact=True)
        self.budgets = LookupBudgets(shared) if settings.redis_url else BUDGETS
        self.tracing: Tracing | None = None
        self.tracer = tracer(None)

    def trace_with(self, tracing: Tracing | None) -> None:
        """Trace operations and SQL statements with ``tracing`` (None: no tracing)."""
        self.tracing, self.tracer = tracing, tracer(tracing)
        if tracing is not None:
            tracing.instrument(self.databases.engines)

    def load(self, folder: Path) -> PolicySet:
        """Read the policies and put them in force; on any error keep what is in force."""
        return self.install(load_policies(folder))

    def install(self, policies: PolicySet) -> PolicySet:
        """Build every role's schema from ``policies``, then switch to them all at once."""
        executors = {name: self._executor(policy) for name, policy in policies.roles.items()}
        before: PolicySet | None = getattr(self, "policies", None)
        if before is not None and before.version != policies.version:
            self.previous_policies = before
        self.policies, self._executors, self._partner_policies = policies, executors, {}
        return policies

    def schema_of(self, policy: Policy | None) -> GraphQLSchema:
        """The schema ``policy`` yields (the full one for None): a role's in force, or built now."""
        if policy is None:
            return self.full_schema._schema
        executor = self._executors.get(policy.name)
        return (executor or self._executor(policy)).schema

    def _executor(self, policy: Policy) -> Executor:
        enforced = None if not policy.enforce else policy
        subgraph = self.settings.subgraph
        schema = (
            build_schema(self.registry.domains, enforced, self.settings.zone)._schema
            if subgraph is None
            else build_subgraph(self.registry.domains, enforced, subgraph, self.settings.zone)
        )
        # Introspection is for everyone, for staff (not partner tokens), or for nobody (production).
        introspection = self.settings.introspection_for
        allowed = introspection == "all" or (introspection == "staff" and not policy.partner)
        limits = Limits.of(self.settings, policy.limits)
        return Executor(schema, limits, introspection=allowed)

    def policy_for(self, principal: Principal) -> Policy:
        if principal.record.kind == "partner":
            # Merging scope grants is done once per scope set, not on every request.
            key = tuple(sorted(principal.scopes))
            merged = self._partner_policies.get(key)
            if merged is None:
                merged = self._partner_policies[key] = self.policies.for_scopes(key)
            return merged
        return self.policies.for_role(principal.role) or NO_GRANTS

    def executor_for(self, principal: Principal) -> Executor:
        policy = self.policy_for(principal)
        executor = self._executors.get(policy.name)
        if executor is None:
            # Partner scope sets are known only from tokens: built on first use, then kept.
            executor = self._executors[policy.name] = self._executor(policy)
        return executor

    def scope_for(self, principal: Principal) -> RowScope:
        policy = self.policy_for(principal)
        return PolicyScope(policy, self.type_names) if policy.enforce else OpenScope()

    def context_for(self, principal: Principal) -> Context:
        return Context(
            principal=principal,
            databases=self.databases,
            settings=self.settings,
            nodes=self.nodes,
            scope=self.scope_for(principal),
            audit=self.audit,
            policy=self.policy_for(principal),
            feed=self.feed,
            plans=self.plans,
        )

    async def start(self) -> None:
        """Start the change feed, every domain's reactions to it and its scheduled work (the app's
        lifespan calls this). Each schedule runs once before this returns, so what it keeps right
        (e.g. risk colours after days with the gateway stopped) is right from the first request."""
        await self._counting_restored()
        await self.feed.start()
        await self.tokens.live.start()
        for domain in self.registry.domains:
            for (source, topic), react in domain.reactions.items():
                self._reactions.append(asyncio.create_task(self._react(source, topic, react)))
        await self.run_schedules()
        for schedule in self.schedules:
            self._reactions.append(asyncio.create_task(self._repeat(schedule)))

    async def _counting_restored(self) -> None:
        """Row counts a killed bulk load left unkept are kept (and counted afresh) again."""
        counted: dict[str, list[type[Any]]] = {}
        for model in self.type_names:
            if counts_of(model) is not None:
                counted.setdefault(str(model.__domain__), []).append(model)
        for domain, models in counted.items():
            async with self.databases.session(domain) as session:
                try:
                    restored = await counting_restored(session, models)
                except DBAPIError:
                    # Say so and serve on (a connection that may not alter the tables, say): the counts
                    # are restored by the next start, or the next bulk load, that can.
                    log.error("the row counts of the %s domain could not be checked or restored", domain)
                    continue
                for table in restored:
                    log.warning("the row count of %s was not kept (a bulk load did not end): counted afresh", table)

    @property
    def schedules(self) -> tuple[Schedule, ...]:
        return tuple(s for d in self.registry.domains for s in d.schedules)

    async def run_schedules(self) -> None:
        """Run every domain's scheduled work once, for the clock's present moment."""
        for schedule in self.schedules:
            await self._run(schedule)

    async def _repeat(self, schedule: Schedule) -> None:
        while True:
            await asyncio.sleep(schedule.every.total_seconds())
            await self._run(schedule)

    async def _run(self, schedule: Schedule) -> None:
        try:
            await schedule.run(self.databases, self.clock())
        except Exception:
            log.exception("scheduled %s failed", schedule.name)

    async def _react(self, source: str, topic: str, react: Reaction) -> None:
        async for events in self.feed.batches(source, topic):
            try:
                await react(self.databases, events)
            except Exception:
                log.exception("reaction to %s failed", ", ".join(event.event_id for event in events))
            # Under a stream of writes the next turn takes all that came in meanwhile: a reaction
            # per write would cost the writers as much again.
            await asyncio.sleep(REACTION_GAP)

    async def close(self) -> None:
        await cancel_all(self._reactions)
        await self.tokens.live.stop()
        await self.feed.stop()
        if self.tracing is not None:
            self.tracing.close()
        await self.databases.dispose()
