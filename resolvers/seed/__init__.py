"""``gateway seed``: the demo data from the article, then optionally a synthetic population."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import Table

from gateway.data import Databases
from resolvers.grid.risk import recompute
from resolvers.seed import city, demo, synthetic
from resolvers.seed.demo import DEMO_PRINCIPALS
from resolvers.seed.writing import Row, has_rows, insert_rows, reset_sequences

__all__ = ["DEMO_PRINCIPALS", "seed"]


async def seed(
    databases: Databases, residents: int = 0, city_scale: float = 0.0, now: datetime | None = None
) -> dict[str, int]:
    """Write the demo rows of every domain that has none yet, then ``residents`` synthetic residents,
    then ``city_scale`` × the whole city (``resolvers.seed.city``), then every grid's risk colour by
    the rule, as of now (``now`` for a test that fixes the day).

    Returns how many rows were written per table; a second run writes no demo rows.
    """
    counts: Counter[str] = Counter()
    for domain, tables in demo.rows_by_domain().items():
        counts.update(await _write_demo(databases, domain, tables))
    if residents > 0:
        counts.update(await synthetic.add_residents(databases, residents))
    if city_scale > 0:
        counts.update(await city.seed_city(databases, city_scale))
    await recompute(databases, None, now or datetime.now(UTC))
    return dict(counts)


async def _write_demo(databases: Databases, domain: str, tables: list[tuple[Table, list[Row]]]) -> dict[str, int]:
    # Each domain may live in its own database, so each one is checked and written on its own.
    async with databases.session(domain) as session:
        if await has_rows(session, tables[0][0]):
            return {}
        for table, rows in tables:
            await insert_rows(session, table, rows)
        await reset_sequences(session, [table for table, _ in tables])
        await session.commit()
    return {table.name: len(rows) for table, rows in tables}
