"""Who is asking: a principal, its role, scopes and area, and where principals come from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

AreaKind = Literal["city", "district", "street", "community", "grid", "police_grid"]


@dataclass(frozen=True)
class Area:
    """The part of the city a principal works in.

    ``grid_ids`` is the set of grids the area covers, resolved from the data when the
    principal is looked up; ``None`` means the whole city.
    """

    kind: AreaKind
    id: int | None = None
    name: str = "天津市"
    grid_ids: frozenset[int] | None = None
    # The grids of the street(s) the area lies in, for rules that reach a little wider.
    street_grid_ids: frozenset[int] | None = None


CITY = Area(kind="city")
TOKEN_AREA_KINDS: tuple[AreaKind, ...] = ("street", "community", "grid")


def parse_area(text: str) -> tuple[AreaKind, int] | None:
    """``street:16`` → ("street", 16): the area a partner token may be narrowed to."""
    kind, _, key = text.partition(":")
    for known in TOKEN_AREA_KINDS:
        if kind == known and key.isdigit():
            return known, int(key)
    return None


@dataclass(frozen=True)
class PrincipalRecord:
    """A principal as the directory knows it: staff member or partner agency."""

    id: str
    kind: Literal["staff", "partner"]
    role: str
    name: str
    agency: str
    area: Area
    scopes: tuple[str, ...] = ()
    active: bool = True
    # The staff member's row in the grid domain, for presets such as a dispute's reporter.
    staff_id: int | None = None


@dataclass(frozen=True)
class Principal:
    """The caller of one request: the directory's record plus what its token carries."""

    record: PrincipalRecord
    token_id: str
    scopes: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def role(self) -> str:
        return self.record.role

    @property
    def area(self) -> Area:
        return self.record.area


class PrincipalDirectory(Protocol):
    """Where principals come from; a domain provides it (the grid domain's staff and agencies)."""

    async def find(self, principal_id: str) -> PrincipalRecord | None: ...

    async def all(self) -> list[PrincipalRecord]: ...

    async def area(self, kind: AreaKind, key: int) -> Area | None:
        """An area by kind and id (a partner token may narrow its agency's area to one)."""
        ...
