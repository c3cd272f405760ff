"""A pooled connection that died while idle (a restarted server, a dropped link) is replaced at
checkout, without a ping on every checkout of a busy pool."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, literal, select, text

from gateway.data import databases as module
from gateway.data import statement_log
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


def test_a_driver_connection_killed_while_idle_is_replaced_and_the_read_retried() -> None:
    with postgres_database() as url:
        asyncio.run(_driver_killed_and_replaced(url))


async def _driver_killed_and_replaced(url: str) -> None:
    databases = Databases(Settings(db_url=url, db_pool_size=1, db_max_overflow=0), ("gateway",))
    pid = databases.ready("gateway", select(func.pg_backend_pid()))
    try:
        first = await databases.value("gateway", pid)
        assert await databases.value("gateway", pid) == first, "one kept connection, used again"
        async with databases.session("gateway") as other:
            await other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        again = await databases.value("gateway", pid)
        assert again != first, "the dead connection was replaced and the read answered on a fresh one"
    finally:
        await databases.dispose()


def test_statements_on_the_driver_are_counted_and_compiled_with_their_values() -> None:
    with postgres_database() as url:
        asyncio.run(_counted(url))


async def _counted(url: str) -> None:
    databases = Databases(Settings(db_url=url), ("gateway",))
    seen: list[str] = []
    token = statement_log.set(seen)
    try:
        ready = databases.ready("gateway", select(func.json_build_array(literal(7), literal("七"))))
        assert await databases.value("gateway", ready) == '[7, "七"]'
        assert seen == [ready.sql] and "$1" in ready.sql, seen
    finally:
        statement_log.reset(token)
        await databases.dispose()
