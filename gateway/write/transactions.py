"""Writes: one transaction per mutation, the caller's grant checked on the row it writes,
presets filled from the principal, stale versions refused, events recorded in the outbox."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import encode_id, scoped
from gateway.kernel import Conflict, Context, Forbidden, not_found
from gateway.policy import MutationRule, own_grids


@asynccontextmanager
async def transaction(ctx: Context, domain: str) -> AsyncIterator[AsyncSession]:
    """One transaction in one domain's database; the feed is woken once it has committed.

    The running mutation's audit record is written before the commit: if it cannot be, the
    write is rolled back (no data without its audit record).
    """
    async with ctx.databases.write_session(domain) as session, session.begin():
        if ctx.audit is not None:
            ctx.audit.hold(session)
        yield session
        if ctx.audit is not None:
            await ctx.audit.record_write(session, domain)
    # Rows read before the write may have changed: later fields of this request read afresh.
    ctx.loaders.clear()
    if ctx.feed is not None:
        await ctx.feed.committed(domain)


def rule(ctx: Context, mutation: str) -> MutationRule:
    granted = ctx.policy.mutation(mutation) if ctx.policy is not None else MutationRule(check="none")
    if granted is None:
        raise Forbidden(f"{mutation} is not granted to your role")
    return granted


def in_own_area(ctx: Context, grid_id: int | None) -> bool:
    """Whether a row in ``grid_id`` lies in the principal's own area. A principal whose area is the whole
    city has no grids of its own: a write checked against its area is refused (city-wide grants say
    ``check: none``), as a reader bound to its area reads nothing (gateway.policy.rows)."""
    return grid_id in own_grids(ctx.principal)


def authorize(ctx: Context, mutation: str, grid_id: int | None) -> None:
    """Refuse a write to a row outside the principal's area when the grant says ``check: area``."""
    if rule(ctx, mutation).check == "area" and not in_own_area(ctx, grid_id):
        raise Forbidden(f"{mutation}: the record lies outside your area ({ctx.principal.area.name})")


def preset(ctx: Context, mutation: str, field: str, sent: Any) -> Any:
    """The value of an input the grant presets from the principal, whatever was sent; else ``sent``."""
    source = rule(ctx, mutation).presets.get(field)
    if source is None:
        return sent
    principal = ctx.principal
    if source == "own_grid":
        if principal.area.kind != "grid":
            raise Forbidden(f"{mutation}: {field} is preset to your own grid, and you have none")
        return principal.area.id
    if source == "own_staff":
        return principal.record.staff_id
    raise Forbidden(f"{mutation}: unknown preset {source!r} for {field}")


async def visible_row(
    ctx: Context, session: AsyncSession, model: type[Any], pk: int, type_name: str, argument: str = "id"
) -> Any:
    """The row to change, locked for the transaction, if the principal may see it; NOT_FOUND otherwise
    (a hidden row reads exactly like a missing one, so a write never reveals it)."""
    stmt = scoped(select(model).where(model.id == pk), model, ctx).with_for_update()
    row = (await session.scalars(stmt)).first()
    if row is None:
        raise not_found(type_name, argument)
    return row


def expect_version(row: Any, expected: int | None, type_name: str) -> None:
    """Refuse an update made against a stale copy; the error carries the current version."""
    if expected is not None and expected != row.version:
        raise Conflict(
            f"{type_name} was changed by someone else (version {row.version}, yours {expected}): "
            "reload it and apply your change again",
            id=encode_id(type_name, row.id),
            currentVersion=row.version,
        )
    row.version += 1
