"""What one running gateway holds: databases, policies, one executor per policy, authenticator."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from graphql import GraphQLSchema

from gateway.audit import AuditTrail
from gateway.auth import TOKEN_DOMAIN, Authenticator, Principal, TokenService
from gateway.data import Databases
from gateway.feed import Feed
from gateway.kernel import Context, OpenScope, Reaction, Registry, RowScope, Settings
from gateway.pipeline.execution import Executor
from gateway.policy import Attributes, Policy, PolicyScope, PolicySet, load_policies
from gateway.schema import build_schema, node_fetcher
from gateway.write import IdempotencyStore, sealing_key

NO_GRANTS = Policy(name="none", types={})
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
        self.full_schema = build_schema(registry.domains)
        self.full_executor = self._limited(self.full_schema._schema)
        self.attributes = Attributes.of(registry.domains)
        self.sensitive = {name: fields for d in registry.domains for name, fields in d.sensitive.items()}
        self._executors: dict[str, Executor] = {}
        self._partner_policies: dict[tuple[str, ...], Policy] = {}
        self._reactions: list[asyncio.Task[None]] = []
        # The set in force before the last reload that changed it (for /policies' diff).
        self.previous_policies: PolicySet | None = None
        self.policies = self.load(Path(settings.policy_dir))

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
        schema = build_schema(self.registry.domains, None if not policy.enforce else policy)
        return self._limited(schema._schema)

    def _limited(self, schema: GraphQLSchema) -> Executor:
        settings = self.settings
        return Executor(
            schema,
            settings.max_query_depth,
            max_tokens=settings.max_tokens,
            max_introspection_depth=settings.max_introspection_depth,
        )

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
        )

    async def start(self) -> None:
        """Start the change feed and every domain's reactions to it (the app's lifespan calls this)."""
        await self.feed.start()
        for domain in self.registry.domains:
            for (source, topic), react in domain.reactions.items():
                self._reactions.append(asyncio.create_task(self._react(source, topic, react)))

    async def _react(self, source: str, topic: str, react: Reaction) -> None:
        async for event in self.feed.events(source, topic):
            try:
                await react(self.databases, event)
            except Exception:
                log.exception("reaction to %s failed", event.event_id)

    async def close(self) -> None:
        for task in self._reactions:
            task.cancel()
        await self.feed.stop()
        await self.databases.dispose()
