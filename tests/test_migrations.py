"""Migrations build exactly the tables the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData

from gateway.data import GatewayBase, create_engine
from gateway.kernel import load_registry
from tests.harness import Gateway


def _diff(connection: Any, metadata: MetaData) -> list[Any]:
    owned = {t.name for t in metadata.sorted_tables}

    def include(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        return type_ != "table" or name in owned

    context = MigrationContext.configure(connection, opts={"include_object": include, "compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_models_and_migrations_agree(gw: Gateway) -> None:
    metadatas = {"gateway": GatewayBase.metadata, **{d.name: d.metadata for d in load_registry().domains}}
    for name, metadata in metadatas.items():
        engine = create_engine(gw.settings.db_url_for(name))
        try:
            async with engine.connect() as connection:
                diff = await connection.run_sync(_diff, metadata)
        finally:
            await engine.dispose()
        assert diff == [], (name, diff)
