"""What other domains ask of the population domain, without reading its tables: a resident by ID,
as the caller may see it; which linked residents bear a name."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from gateway.data import contains, fetch_rows, load_one
from gateway.kernel import Context
from resolvers.population.tables import Resident as ResidentRow
from resolvers.population.types import Resident, resident


async def resident_by_id(ctx: Context, pk: int | None) -> Resident | None:
    row = await load_one(ctx, ResidentRow, pk)
    return None if row is None else resident(row)


async def resident_visible(ctx: Context, pk: int) -> bool:
    """Whether the caller may see resident ``pk`` (a hidden one reads as missing)."""
    stmt = select(ResidentRow.id).where(ResidentRow.id == pk)
    return bool(await fetch_rows(ctx, ResidentRow, stmt))


# Residents asked about at once, so an IN list stays a size every database plans well.
_BATCH = 1000


async def residents_named(ctx: Context, ids: Sequence[int], text: str) -> set[int]:
    """Of ``ids`` (residents linked from rows the caller already reads), those whose name contains
    ``text`` as the caller reads names through the link (``resolvers.population.contacts``): under
    its Resident rule — its row scope, and only where it reads names in clear — or, for a caller
    with no Resident rule, under the linking rule, which the caller's own argument checks."""
    policy = ctx.policy
    governed = policy is not None and policy.enforce
    reads_residents = not governed or (policy is not None and policy.rule("Resident") is not None)
    if reads_residents and governed and policy is not None and policy.access("Resident", "name") != "allowed":
        return set()  # names read masked (or withheld) through the link match nothing
    found: set[int] = set()
    wanted = sorted(set(ids))
    for start in range(0, len(wanted), _BATCH):
        stmt = select(ResidentRow.id).where(
            ResidentRow.id.in_(wanted[start : start + _BATCH]), contains(ResidentRow.name, text)
        )
        if reads_residents:
            rows = await fetch_rows(ctx, ResidentRow, stmt)
        else:
            # Not through the row scope, which holds no Resident row for this caller: only residents
            # of linking rows it has already read through its own scope.
            async with ctx.databases.session("population") as session:
                rows = (await session.execute(stmt)).all()
        found.update(int(row.id) for row in rows)
    return found
