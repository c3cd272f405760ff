"""Alembic environment: one run per domain, each against its own database URL and with its
own version table, so domains can share one database or live apart."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from gateway.data.base import GatewayBase
from gateway.data.databases import create_engine
from gateway.kernel.registry import load_registry
from gateway.kernel.settings import Settings, get_settings


def _metadata() -> dict[str, MetaData]:
    registry = load_registry()
    # A domain without tables of its own (a read model) has nothing to migrate.
    return {"gateway": GatewayBase.metadata, **{d.name: d.metadata for d in registry.domains if d.metadata.tables}}


def _owned(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Domains may share one database: a table this domain does not declare belongs to another.
    return not (type_ == "table" and reflected and compare_to is None)


def _configure(connection: Connection | None, name: str, metadata: MetaData, **kwargs: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=f"alembic_version_{name}",
        upgrade_token=f"{name}_upgrades",
        downgrade_token=f"{name}_downgrades",
        render_as_batch=True,
        compare_type=True,
        include_object=_owned,
        **kwargs,
    )


def _run(connection: Connection, name: str, metadata: MetaData) -> None:
    _configure(connection, name, metadata)
    with context.begin_transaction():
        context.run_migrations(engine_name=name)


def _settings() -> Settings:
    given = context.config.attributes.get("settings")
    return given if isinstance(given, Settings) else get_settings()


async def _run_online() -> None:
    settings = _settings()
    for name, metadata in _metadata().items():
        engine = create_engine(settings.db_url_for(name))
        try:
            async with engine.connect() as connection:
                await connection.run_sync(_run, name, metadata)
                await connection.commit()
        finally:
            await engine.dispose()


if context.is_offline_mode():
    settings = _settings()
    for name, metadata in _metadata().items():
        _configure(None, name, metadata, url=settings.db_url_for(name), literal_binds=True)
        with context.begin_transaction():
            context.run_migrations(engine_name=name)
else:
    asyncio.run(_run_online())
