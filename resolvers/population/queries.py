"""Root fields of the population domain, and the resident lists other domains link to."""

from __future__ import annotations

from typing import Annotated, Any

import strawberry
from sqlalchemy import Select, select

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
    load_one,
    nested_page,
    root_page,
    search_text,
    within,
)
from gateway.kernel import BadUserInput, Context, Info
from gateway.schema import TESTS, from_row
from resolvers.grid.area import AreaFilter, in_area
from resolvers.grid.types import FilterArg
from resolvers.population import idnumber
from resolvers.population import tables as t
from resolvers.population.orders import (
    DogLicenceOrder,
    GuestCheckInOrder,
    HouseholdOrder,
    RentalPropertyOrder,
    ResidentOrder,
    ResidentRegistrationOrder,
    TemporaryStayOrder,
)
from resolvers.population.types import (
    DogLicence,
    DogLicenceStatus,
    GuestCheckIn,
    GuestCheckInFilter,
    Household,
    RegistrationStatus,
    RentalProperty,
    Resident,
    ResidentFilter,
    ResidentRegistration,
    TemporaryStay,
    household,
    resident,
)


def valid_id_number(value: str, argument: str) -> str:
    problem = idnumber.problem(value)
    if problem:
        raise BadUserInput(f"{argument}: {problem}", argument=argument)
    return idnumber.normalise(value)


async def _resident_select(ctx: Context, filter: ResidentFilter | None) -> Select[Any]:
    stmt = select(t.Resident)
    if filter is None:
        return stmt
    area = await in_area(ctx, t.Resident.grid_id, filter.area)
    if area is not None:
        stmt = stmt.where(area)
    if filter.registration_kind is not None:
        stmt = stmt.where(t.Resident.registration_kind == filter.registration_kind.value)
    if filter.status is not None:
        stmt = stmt.where(t.Resident.status == filter.status.value)
    if filter.gender is not None:
        stmt = stmt.where(t.Resident.gender == filter.gender.value)
    name = search_text(filter.name, "filter.name")
    if name:
        stmt = stmt.where(contains(t.Resident.name, name))
    if filter.id_number is not None:
        stmt = stmt.where(t.Resident.id_number == valid_id_number(filter.id_number, "filter.idNumber"))
    return within(stmt, t.Resident.registered_at, filter.registered, "filter.registered", ctx.settings.zone)


async def residents_of_grid(
    ctx: Context, grid_id: int, page: PageArgs, filter: ResidentFilter | None
) -> Connection[Resident]:
    if filter is not None and filter.area is not None:
        raise BadUserInput("filter.area cannot narrow a grid's own residents", argument="filter.area")
    stmt = await _resident_select(ctx, filter)
    return await nested_page(ctx, t.Resident, t.Resident.grid_id, grid_id, page, resident, stmt, name=_key(filter))


def _key(filter: Any) -> str:
    # Loaders are shared per request by argument values; the filter's repr names them.
    return repr(filter)


@strawberry.input(description="户筛选 / household filter")
class HouseholdFilter:
    area: AreaFilter | None = strawberry.field(default=None, description="辖区 / area")
    search: str | None = strawberry.field(
        default=None,
        description="户号或地址包含 / number or address contains",
        metadata={TESTS: ["Household.number", "Household.address"]},
    )


@strawberry.type
class PopulationQuery:
    @strawberry.field(description="居民列表 / residents", metadata={PLAN: ROOT_LIST})
    async def residents(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[ResidentOrder | None, OrderArg] = None,
        filter: Annotated[ResidentFilter | None, FilterArg] = None,
    ) -> Connection[Resident]:
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        stmt = await _resident_select(info.context, filter)
        return await root_page(info.context, t.Resident, stmt, page, resident)

    @strawberry.field(description="按标识查居民 / one resident by ID")
    async def resident(
        self, info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="居民标识 / resident ID")]
    ) -> Resident | None:
        row = await load_one(info.context, t.Resident, decode_pk(id, "Resident"))
        return None if row is None else resident(row)

    @strawberry.field(description="按身份证号查居民 / one resident by citizen ID number")
    async def resident_by_id_number(
        self,
        info: Info,
        id_number: Annotated[
            str,
            strawberry.argument(description="身份证号 / citizen ID number", metadata={TESTS: ["Resident.idNumber"]}),
        ],
    ) -> Resident | None:
        number = valid_id_number(id_number, "idNumber")
        row = await load_one(info.context, t.Resident, number, t.Resident.id_number)
        return None if row is None else resident(row)

    @strawberry.field(
        description="居民登记列表(待审核等) / registrations collected for review", metadata={PLAN: ROOT_LIST}
    )
    async def resident_registrations(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[ResidentRegistrationOrder | None, OrderArg] = None,
        status: Annotated[
            RegistrationStatus | None,
            strawberry.argument(description="审核状态 / state", metadata={TESTS: ["ResidentRegistration.status"]}),
        ] = None,
        area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None,
    ) -> Connection[ResidentRegistration]:
        stmt = select(t.ResidentRegistration)
        if status is not None:
            stmt = stmt.where(t.ResidentRegistration.status == status.value)
        condition = await in_area(info.context, t.ResidentRegistration.grid_id, area)
        if condition is not None:
            stmt = stmt.where(condition)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(
            info.context, t.ResidentRegistration, stmt, page, lambda r: from_row(ResidentRegistration, r)
        )

    @strawberry.field(description="户列表 / households", metadata={PLAN: ROOT_LIST})
    async def households(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[HouseholdOrder | None, OrderArg] = None,
        filter: Annotated[HouseholdFilter | None, FilterArg] = None,
    ) -> Connection[Household]:
        stmt = select(t.Household)
        if filter is not None:
            area = await in_area(info.context, t.Household.grid_id, filter.area)
            if area is not None:
                stmt = stmt.where(area)
            text = search_text(filter.search, "filter.search")
            if text:
                stmt = stmt.where(contains(t.Household.number, text) | contains(t.Household.address, text))
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.Household, stmt, page, household)

    @strawberry.field(description="暂住登记列表 / temporary-stay registrations", metadata={PLAN: ROOT_LIST})
    async def temporary_stays(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[TemporaryStayOrder | None, OrderArg] = None,
        area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None,
    ) -> Connection[TemporaryStay]:
        stmt = select(t.TemporaryStay)
        condition = await in_area(info.context, t.TemporaryStay.grid_id, area)
        if condition is not None:
            stmt = stmt.where(condition)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.TemporaryStay, stmt, page, lambda r: from_row(TemporaryStay, r))

    @strawberry.field(description="网约房列表 / short-term rental properties", metadata={PLAN: ROOT_LIST})
    async def rental_properties(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[RentalPropertyOrder | None, OrderArg] = None,
        area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None,
    ) -> Connection[RentalProperty]:
        stmt = select(t.RentalProperty)
        condition = await in_area(info.context, t.RentalProperty.grid_id, area)
        if condition is not None:
            stmt = stmt.where(condition)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.RentalProperty, stmt, page, lambda r: from_row(RentalProperty, r))

    @strawberry.field(description="网约房入住登记列表 / rental guest check-ins, by area, handling state and date")
    async def guest_check_ins(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[GuestCheckInOrder | None, OrderArg] = None,
        filter: Annotated[GuestCheckInFilter | None, FilterArg] = None,
    ) -> Connection[GuestCheckIn]:
        stmt = select(t.GuestCheckIn)
        if filter is not None:
            area = await in_area(info.context, t.GuestCheckIn.grid_id, filter.area)
            if area is not None:
                stmt = stmt.where(area)
            if filter.flag_status:
                stmt = stmt.where(t.GuestCheckIn.flag_status.in_([s.value for s in filter.flag_status]))
            if filter.staying is not None:
                out = t.GuestCheckIn.checked_out_at
                stmt = stmt.where(out.is_(None) if filter.staying else out.is_not(None))
            zone = info.context.settings.zone
            stmt = within(stmt, t.GuestCheckIn.checked_in_at, filter.checked_in, "filter.checkedIn", zone)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.GuestCheckIn, stmt, page, lambda r: from_row(GuestCheckIn, r))

    @strawberry.field(description="犬证申请列表 / dog licence applications", metadata={PLAN: ROOT_LIST})
    async def dog_licences(
        self,
        info: Info,
        first: First = None,
        after: After = None,
        last: Last = None,
        before: Before = None,
        order_by: Annotated[DogLicenceOrder | None, OrderArg] = None,
        status: Annotated[
            DogLicenceStatus | None,
            strawberry.argument(description="状态 / status", metadata={TESTS: ["DogLicence.status"]}),
        ] = None,
        area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None,
    ) -> Connection[DogLicence]:
        stmt = select(t.DogLicence)
        if status is not None:
            stmt = stmt.where(t.DogLicence.status == status.value)
        condition = await in_area(info.context, t.DogLicence.grid_id, area)
        if condition is not None:
            stmt = stmt.where(condition)
        page = PageArgs.parse(info.context, first, after, last, before, order_by)
        return await root_page(info.context, t.DogLicence, stmt, page, lambda r: from_row(DogLicence, r))
