"""Root fields of the dispute domain, and the dispute lists other domains link to."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, or_, select

from gateway.compile import PLAN, ROOT_LIST
from gateway.data import (
    After,
    Connection,
    First,
    PageArgs,
    contains,
    decode_pk,
    load_one,
    nested_page,
    root_page,
    search_text,
    within,
)
from gateway.kernel import Context, Info
from gateway.schema import from_row
from resolvers.dispute import tables as t
from resolvers.dispute.types import Dispute, DisputeFilter, Mediator, dispute
from resolvers.grid.area import in_area


async def _dispute_select(ctx: Context, filter: DisputeFilter | None, stmt: Select[Any]) -> Select[Any]:
    if filter is None:
        return stmt
    area = await in_area(ctx, t.Dispute.grid_id, filter.area)
    if area is not None:
        stmt = stmt.where(area)
    if filter.status:
        stmt = stmt.where(t.Dispute.status.in_([s.value for s in filter.status]))
    if filter.category is not None:
        stmt = stmt.where(t.Dispute.category == filter.category.value)
    text = search_text(filter.search, "filter.search")
    if text:
        stmt = stmt.where(or_(contains(t.Dispute.title, text), contains(t.Dispute.code, text)))
    return within(stmt, t.Dispute.reported_at, filter.reported, "filter.reported", ctx.settings.zone)


async def disputes_of_grid(
    ctx: Context, grid_id: int, page: PageArgs, filter: DisputeFilter | None
) -> Connection[Dispute]:
    stmt = await _dispute_select(ctx, filter, select(t.Dispute))
    return await nested_page(ctx, t.Dispute, t.Dispute.grid_id, grid_id, page, dispute, stmt, name=repr(filter))


async def disputes_of_resident(ctx: Context, resident_id: int, page: PageArgs) -> Connection[Dispute]:
    base = select(t.Dispute).join(t.DisputeParty, t.DisputeParty.dispute_id == t.Dispute.id)
    key = t.DisputeParty.resident_id
    return await nested_page(ctx, t.Dispute, key, resident_id, page, dispute, base, name="by-party")


@strawberry.type
class DisputeQuery:
    @strawberry.field(description="矛盾纠纷列表 / disputes", metadata={PLAN: ROOT_LIST})
    async def disputes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        filter: Annotated[DisputeFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Dispute]:
        stmt = await _dispute_select(info.context, filter, select(t.Dispute))
        return await root_page(info.context, t.Dispute, stmt, PageArgs.parse(info.context, first, after), dispute)

    @strawberry.field(description="按标识查纠纷 / one dispute by ID")
    async def dispute(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="纠纷标识 / dispute ID")],
    ) -> Dispute | None:
        row = await load_one(info.context, t.Dispute, decode_pk(id, "Dispute"))
        return None if row is None else dispute(row)

    @strawberry.field(description="调解员列表 / mediators", metadata={PLAN: ROOT_LIST})
    async def mediators(self, info: Info, first: First = None, after: After = None) -> Connection[Mediator]:
        page = PageArgs.parse(info.context, first, after)
        return await root_page(info.context, t.Mediator, select(t.Mediator), page, lambda r: from_row(Mediator, r))
