"""The principal directory: staff and partner agencies, with their areas read from the data.

An officer's area is the set of grids bound to their police grid, a committee's the grids
of its community, a grid worker's their grid, a street agency's the grids of its street.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from gateway.auth import CITY, Area, AreaKind, PrincipalRecord
from gateway.data import Databases
from resolvers.grid.tables import Agency, Community, Grid, GridBinding, PoliceGrid, Staff, Street


class StaffDirectory:
    def __init__(self, databases: Databases) -> None:
        self._databases = databases

    async def find(self, principal_id: str) -> PrincipalRecord | None:
        async with self._databases.session("grid") as session:
            person = await session.scalar(select(Staff).where(Staff.principal_id == principal_id))
            if person is not None:
                return PrincipalRecord(
                    id=person.principal_id,
                    kind="staff",
                    role=person.role,
                    name=person.name,
                    agency=person.agency,
                    area=await _staff_area(session, person),
                    active=person.active,
                    staff_id=person.id,
                )
            agency = await session.scalar(select(Agency).where(Agency.principal_id == principal_id))
            if agency is None:
                return None
            return PrincipalRecord(
                id=agency.principal_id,
                kind="partner",
                role=agency.role,
                name=agency.name,
                agency=agency.name,
                area=await _street_area(session, agency.street_id),
                scopes=tuple(s for s in agency.scopes.split(",") if s),
                active=agency.active,
            )

    async def area(self, kind: AreaKind, key: int) -> Area | None:
        async with self._databases.session("grid") as session:
            if kind == "street":
                return None if await session.get(Street, key) is None else await _street_area(session, key)
            if kind == "community":
                row = await session.get(Community, key)
                grids = await _grid_ids(session, select(Grid.id).where(Grid.community_id == key))
                return None if row is None else await _area(session, "community", key, row.name, grids)
            if kind == "grid":
                found = await session.get(Grid, key)
                return None if found is None else await _area(session, "grid", key, found.name, frozenset({key}))
            return None

    async def all(self) -> list[PrincipalRecord]:
        async with self._databases.session("grid") as session:
            ids = list(await session.scalars(select(Staff.principal_id).order_by(Staff.id)))
            ids += list(await session.scalars(select(Agency.principal_id).order_by(Agency.id)))
        records = [await self.find(pid) for pid in ids]
        return [r for r in records if r is not None]


async def _grid_ids(session: Any, stmt: Any) -> frozenset[int]:
    return frozenset(await session.scalars(stmt))


async def _street_grids(session: Any, grid_ids: frozenset[int]) -> frozenset[int]:
    """Every grid of the street(s) these grids lie in."""
    streets = select(Community.street_id).join(Grid, Grid.community_id == Community.id).where(Grid.id.in_(grid_ids))
    stmt = select(Grid.id).join(Community).where(Community.street_id.in_(streets))
    return await _grid_ids(session, stmt)


async def _area(session: Any, kind: AreaKind, key: int, name: str, grids: frozenset[int]) -> Area:
    return Area(kind, key, name, grids, await _street_grids(session, grids))


async def _staff_area(session: Any, person: Staff) -> Area:
    if person.grid_id is not None:
        row = await session.get(Grid, person.grid_id)
        return await _area(session, "grid", person.grid_id, row.name if row else "", frozenset({person.grid_id}))
    if person.community_id is not None:
        row = await session.get(Community, person.community_id)
        grids = await _grid_ids(session, select(Grid.id).where(Grid.community_id == person.community_id))
        return await _area(session, "community", person.community_id, row.name if row else "", grids)
    if person.police_grid_id is not None:
        row = await session.get(PoliceGrid, person.police_grid_id)
        stmt = select(GridBinding.grid_id).where(GridBinding.police_grid_id == person.police_grid_id)
        grids = await _grid_ids(session, stmt)
        return await _area(session, "police_grid", person.police_grid_id, row.name if row else "", grids)
    return CITY


async def _street_area(session: Any, street_id: int | None) -> Area:
    if street_id is None:
        return CITY
    row = await session.get(Street, street_id)
    stmt = select(Grid.id).join(Community).where(Community.street_id == street_id)
    grids = await _grid_ids(session, stmt)
    return Area("street", street_id, row.name if row else "", grids, grids)
