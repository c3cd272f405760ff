"""Alembic environment: one run per database of the history being migrated (see
``gateway.data.migrate``), each against its own URL and with its own version table, so
domains can share one database or live apart."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic import context
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from gateway.data.databases import create_engine
from gateway.data.migrate import History, histories
from gateway.kernel.registry import load_registry
from gateway.kernel.settings import Settings, get_settings


def _history() -> History:
    given = context.config.attributes.get("history")
    return given if isinstance(given, History) else histories(load_registry())[0]


def _owned(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    # Domains may share one database: a table this domain does not declare belongs to another.
    return not (type_ == "table" and reflected and compare_to is None)


def _configure(connection: Connection | None, name: str, metadata: MetaData, history: History, **kwargs: Any) -> None:
    # The engine's history renders each database's changes into its own upgrade_<name>();
    # a domain's own history is plain Alembic (its default tokens).
    token = f"{name}_" if history.per_database else ""
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=f"alembic_version_{name}",
        upgrade_token=f"{token}upgrades",
        downgrade_token=f"{token}downgrades",
        render_as_batch=True,
        compare_type=True,
        include_object=_owned,
        **kwargs,
    )


def _migrate(name: str, history: History) -> None:
    with context.begin_transaction():
        if history.per_database:
            context.run_migrations(engine_name=name)
        else:
            context.run_migrations()


def _run(connection: Connection, name: str, metadata: MetaData, history: History) -> None:
    _configure(connection, name, metadata, history)
    _migrate(name, history)


def _settings() -> Settings:
    given = context.config.attributes.get("settings")
    return given if isinstance(given, Settings) else get_settings()


async def _run_online(history: History) -> None:
    settings = _settings()
    for name, metadata in history.databases.items():
        engine = create_engine(settings.db_url_for(name))
        try:
            async with engine.connect() as connection:
                await connection.run_sync(_run, name, metadata, history)
                await connection.commit()
        finally:
            await engine.dispose()


if context.is_offline_mode():
    settings, history = _settings(), _history()
    for name, metadata in history.databases.items():
        _configure(None, name, metadata, history, url=settings.db_url_for(name), literal_binds=True)
        _migrate(name, history)
else:
    asyncio.run(_run_online(_history()))
