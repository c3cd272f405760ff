"""What one running gateway holds: databases, schema, executors, authenticator."""

from __future__ import annotations

from gateway.auth import Authenticator
from gateway.context import Context
from gateway.db import Databases
from gateway.execution import Executor
from gateway.principal import Principal
from gateway.registry import Registry
from gateway.schema import build_schema
from gateway.settings import Settings
from gateway.tokens import TOKEN_DOMAIN, TokenService


class Runtime:
    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.registry = registry
        self.databases = Databases(settings, (TOKEN_DOMAIN, *registry.names))
        self.tokens = TokenService(settings, self.databases)
        self.directory = registry.directory(self.databases)
        self.authenticator = Authenticator(self.tokens, self.directory, settings.principal_cache_seconds)
        self.schema = build_schema(registry.domains)
        self.executor = Executor(self.schema._schema, settings.max_query_depth)
        self.nodes = {name: fetch for d in registry.domains for name, fetch in d.nodes.items()}

    def executor_for(self, principal: Principal) -> Executor:
        return self.executor

    def context_for(self, principal: Principal) -> Context:
        return Context(principal=principal, databases=self.databases, settings=self.settings, nodes=self.nodes)

    async def close(self) -> None:
        await self.databases.dispose()
