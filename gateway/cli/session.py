"""What a command needs to reach the databases of every domain."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from gateway.auth import TOKEN_DOMAIN
from gateway.data import Databases
from gateway.kernel import Registry, Settings, get_settings, load_registry


async def with_databases(action: Callable[[Settings, Registry, Databases], Awaitable[int]]) -> int:
    settings, registry = get_settings(), load_registry()
    databases = Databases(settings, (TOKEN_DOMAIN, *registry.names))
    try:
        return await action(settings, registry, databases)
    finally:
        await databases.dispose()
