"""Resident statistics: counts by age band, registration kind and gender."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from sqlalchemy import extract, select

from gateway.data import Bucket, Dimension, grouped, shown_total
from gateway.kernel import Info
from gateway.schema import COUNTS
from resolvers.grid.area import AreaFilter, in_area
from resolvers.population import tables as t
from resolvers.population.types import age_band


@strawberry.type(description="居民统计 / resident statistics")
class ResidentStats:
    total: int | None = strawberry.field(description="总数(过小不显示) / number of residents; null when too small")
    by_age_band: list[Bucket] = strawberry.field(description="按年龄段 / by age band")
    by_registration_kind: list[Bucket] = strawberry.field(description="按户籍类别 / by registration kind")
    by_gender: list[Bucket] = strawberry.field(description="按性别 / by gender")


def _band_of_birth_year(year: object) -> str:
    today = date.today()
    return age_band(today.year - int(str(year)))


@strawberry.type
class PopulationStatsQuery:
    @strawberry.field(
        description="居民统计(不含明细) / resident counts, without the rows", metadata={COUNTS: "Resident"}
    )
    async def resident_stats(
        self, info: Info, area: Annotated[AreaFilter | None, strawberry.argument(description="辖区 / area")] = None
    ) -> ResidentStats:
        stmt = select(t.Resident)
        condition = await in_area(info.context, t.Resident.grid_id, area)
        if condition is not None:
            stmt = stmt.where(condition)
        ctx = info.context
        # Grouped by birth year in SQL; years fold into bands here (counts only, no rows).
        year = extract("year", t.Resident.birth_date)
        bands, kinds, genders = await grouped(
            ctx,
            t.Resident,
            stmt,
            Dimension(year, "Resident.ageBand", _band_of_birth_year),
            Dimension(t.Resident.registration_kind, "Resident.registrationKind"),
            Dimension(t.Resident.gender, "Resident.gender"),
        )
        return ResidentStats(
            total=shown_total(info, kinds, "Resident"),
            by_age_band=bands,
            by_registration_kind=kinds,
            by_gender=genders,
        )
