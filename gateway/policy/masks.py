"""Masks: how a masked field's value is rewritten, as SQL, so the raw value never leaves the database.

Each mask is a function of the column expression (and the row's table, for masks that read a
sibling column). The same rules in Python (``preview``) serve ``gateway policy explain`` and tests.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal
from sqlalchemy.sql.expression import ColumnClause


@dataclass(frozen=True)
class Mask:
    name: str
    description: str
    sql: Callable[[Any, Any], ColumnElement[Any]]
    preview: Callable[[str], str]
    # A column the model must also have (e.g. ``building`` for the address mask).
    needs_column: str | None = None


def _concat(head: Any, stars: str, tail: Any, column: Any) -> ColumnElement[Any]:
    # `||` works on SQLite and PostgreSQL alike; NULL stays NULL.
    joined: ColumnElement[Any] = head.op("||")(literal(stars)).op("||")(tail)
    return case((column.is_(None), None), else_=joined)


def _id_number(column: Any, table: Any) -> ColumnElement[Any]:
    return _concat(func.substr(column, 1, 6), "********", func.substr(column, 15, 4), column)


def _phone(column: Any, table: Any) -> ColumnElement[Any]:
    return _concat(func.substr(column, 1, 3), "****", func.substr(column, 8, 4), column)


def _name(column: Any, table: Any) -> ColumnElement[Any]:
    first = func.substr(column, 1, 1)
    short: ColumnElement[Any] = first.op("||")(literal("*"))
    long: ColumnElement[Any] = short.op("||")(func.substr(column, func.length(column), 1))
    return case((column.is_(None), None), (func.length(column) <= 2, short), else_=long)


def _building(column: Any, table: Any) -> ColumnElement[Any]:
    building: ColumnClause[Any] = table.c.building
    return case((column.is_(None), None), else_=building)


MASKS: dict[str, Mask] = {
    m.name: m
    for m in (
        Mask(
            "id_number",
            "身份证号保留前6后4 / ID number keeping the first 6 and last 4 characters",
            _id_number,
            lambda v: v[:6] + "********" + v[14:18],
        ),
        Mask(
            "phone",
            "手机号保留前3后4 / phone keeping the first 3 and last 4 digits",
            _phone,
            lambda v: v[:3] + "****" + v[7:11],
        ),
        Mask(
            "name",
            "姓名保留首尾字 / name keeping the first and last character",
            _name,
            lambda v: v[:1] + "*" + (v[-1:] if len(v) > 2 else ""),
        ),
        Mask(
            "building",
            "地址只到楼栋 / address down to the building",
            _building,
            lambda v: v,
            needs_column="building",
        ),
    )
}
