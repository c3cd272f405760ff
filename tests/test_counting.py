"""A count is ``count(*)`` exactly where the statement reads one table, as SQLAlchemy itself would say
by compiling it (``get_final_froms``): the cheap check and the compiler agree on every shape."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import exists, func, select

from gateway.data import counting
from resolvers.dispute import tables as d
from resolvers.population import tables as p

R, H, P = p.Resident, p.Household, p.GuestCheckIn
SHAPES: list[Any] = [
    select(R),
    select(R).where(R.grid_id == 3),
    select(R.id).select_from(R).where(R.grid_id.in_([1, 2])),
    select(func.count()).select_from(R),
    select(R).where(exists().where(H.id == R.household_id)),
    select(R).where(R.id.in_(select(H.id))),
    select(R).join(H, H.id == R.household_id),
    select(R).where(R.household_id == H.id),
    select(R).select_from(R.__table__.join(H.__table__)),
    select(R).outerjoin(P, P.resident_id == R.id),
]
SHAPES_OF = [(R, stmt) for stmt in SHAPES] + [(d.Dispute, select(d.Dispute).where(d.Dispute.grid_id == 1))]


@pytest.mark.parametrize(("model", "stmt"), SHAPES_OF, ids=[str(n) for n in range(len(SHAPES_OF))])
def test_count_star_exactly_where_one_table_is_read(model: Any, stmt: Any) -> None:
    plain = stmt.get_final_froms() == [model.__table__]
    counted = str(counting(stmt, model).compile()).lower()
    assert ("distinct" not in counted) == plain, counted
    assert plain == (counted == "count(*)"), counted
