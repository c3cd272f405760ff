"""Root fields of the dispute domain, and the dispute lists other domains link to."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, or_, select

from gateway.compile import PLAN, ROOT_LIST
from gateway.data import (
    After,
    Before,
    Connection,
    First,
    Last,
    OrderArg,
    PageArgs,
    contains,
    decode_pk,
    fetch_rows,
    load_one,
    nested_page,
    root_page,
    scoped,
    search_text,
    within,
)
from gateway.kernel import BadUserInput, Context, Info
from gateway.schema import TESTS, from_row
from resolvers.dispute import tables as t
from resolvers.dispute.orders import DisputeOrder, MediatorOrder
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
    party = search_text(filter.party_name, "filter.partyName")
    if party:
        stmt = stmt.where(t.Dispute.id.in_(await _with_party_named(ctx, stmt, party)))
    return within(stmt, t.Dispute.reported_at, filter.reported, "filter.reported", ctx.settings.zone)


# Linked parties whose names one search may test; past this, the search asks for another filter.
MOST_LINKED_PARTIES = 20_000


async def _with_party_named(ctx: Context, stmt: Select[Any], text: str) -> Select[Any]:
    """The disputes (of those ``stmt`` selects) with a party whose name, as the caller reads it,
    contains ``text``: a party by the details given, or a resident whose record's name the caller
    reads in clear through the link (asked of the population domain, never joined)."""
    from resolvers.population.lookups import residents_named

    disputes = stmt.with_only_columns(t.Dispute.id).order_by(None)
    parties = select(t.DisputeParty.resident_id).where(
        t.DisputeParty.dispute_id.in_(disputes), t.DisputeParty.resident_id.is_not(None)
    )
    linked = [
        row.resident_id
        for row in await fetch_rows(ctx, t.DisputeParty, parties.distinct().limit(MOST_LINKED_PARTIES + 1))
    ]
    if len(linked) > MOST_LINKED_PARTIES:
        raise BadUserInput(
            "filter.partyName: narrow the search with another filter (area, status, dates) first",
            argument="filter.partyName",
        )
    named = await residents_named(ctx, linked, text)
    by_details = contains(t.DisputeParty.name, text) & t.DisputeParty.resident_id.is_(None)
    matching = or_(by_details, t.DisputeParty.resident_id.in_(sorted(named))) if named else by_details
    return scoped(select(t.DisputeParty.dispute_id).where(matching), t.DisputeParty, ctx)


async def disputes_of_grid(
    ctx: Context, grid_id: int, page: PageArgs, filter: DisputeFilter | None
) -> Connection[Dispute]:
    stmt = await _dispute_select(ctx, filter, select(t.Dispute))
    return await nested_page(ctx, t.Dispute, t.Dispute.grid_id, grid_id, page, dispute, stmt, name=repr(filter))


async def disputes_of_resident(ctx: Context, resident_id: int, page: PageArgs) -> Connection[Dispute]:
    base = select(t.Dispute).join(t.DisputeParty, t.DisputeParty.dispute_id == t.Dispute.id)
    key = t.DisputeParty.resident_id
    return await nested_page(ctx, t.Dispute, key, resident_id, page, dispute, base, name="by-party")


@strawberry.input(description="调解员筛选 / mediator filter")
class MediatorFilter:
    kind: str | None = strawberry.field(
        default=None, description="类型(精确) / exact kind", metadata={TESTS: ["Mediator.kind"]}
    )
    organisation: str | None = strawberry.field(
        default=None, description="所属组织包含 / organisation contains", metadata={TESTS: ["Mediator.organisation"]}
    )
    search: str | None = strawberry.field(
        default=None, description="姓名包含 / name contains", metadata={TESTS: ["Mediator.name"]}
    )


@strawberry.type
class DisputeQuery:
    @strawberry.field(description="矛盾纠纷列表 / disputes", metadata={PLAN: ROOT_LIST})
    async def disputes(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[DisputeOrder | None, OrderArg] = None,
        filter: Annotated[DisputeFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Dispute]:
        stmt = await _dispute_select(info.context, filter, select(t.Dispute))
        return await root_page(
            info.context, t.Dispute, stmt, PageArgs.parse(info.context, first, after, last, before, order_by), dispute
        )

    @strawberry.field(description="按标识查纠纷 / one dispute by ID")
    async def dispute(
        self,
        info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="纠纷标识 / dispute ID")],
    ) -> Dispute | None:
        row = await load_one(info.context, t.Dispute, decode_pk(id, "Dispute"))
        return None if row is None else dispute(row)

    @strawberry.field(description="调解员列表 / mediators", metadata={PLAN: ROOT_LIST})
    async def mediators(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[MediatorOrder | None, OrderArg] = None,
        filter: Annotated[MediatorFilter | None, strawberry.argument(description="筛选 / filter")] = None,
    ) -> Connection[Mediator]:
        stmt = select(t.Mediator)
        if filter is not None:
            if filter.kind is not None:
                stmt = stmt.where(t.Mediator.kind == filter.kind)
            organisation = search_text(filter.organisation, "filter.organisation")
            if organisation:
                stmt = stmt.where(contains(t.Mediator.organisation, organisation))
            name = search_text(filter.search, "filter.search")
            if name:
                stmt = stmt.where(contains(t.Mediator.name, name))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Mediator, stmt, page, lambda r: from_row(Mediator, r))
