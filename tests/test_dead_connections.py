"""A pooled connection that died while idle (a restarted server, a dropped link) is replaced at
checkout, without a ping on every checkout of a busy pool."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from gateway.data import databases as module
from gateway.data.databases import Databases
from gateway.kernel import Settings
from tests.harness import postgres_database


def test_a_connection_killed_while_idle_is_replaced_at_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    with postgres_database() as url:
        asyncio.run(_killed_and_replaced(url, monkeypatch))


async def _killed_and_replaced(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    databases = Databases(Settings(db_url=url), ("gateway",))
    pings: list[int] = []
    dialect = databases.engine("gateway").sync_engine.dialect
    real_ping = dialect.do_ping

    def counted_ping(connection: Any) -> bool:
        pings.append(1)
        return bool(real_ping(connection))

    monkeypatch.setattr(dialect, "do_ping", counted_ping)
    try:
        async with databases.session("gateway") as session:
            first = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        async with databases.session("gateway") as session:
            assert (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one() == first
        assert pings == [], "a connection in use a moment ago is not pinged"

        admin = Databases(Settings(db_url=url), ("gateway",))  # a connection of its own, as an admin's
        try:
            async with admin.session("gateway") as other:
                await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        finally:
            await admin.dispose()
        monkeypatch.setattr(module, "IDLE_SECONDS", 0.0)  # every pooled connection now counts as idle
        async with databases.session("gateway") as session:
            again = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
        assert again != first and pings, "the dead connection was found by its ping and replaced"
    finally:
        await databases.dispose()
