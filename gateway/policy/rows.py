"""Row scope: which rows of a table a principal may read, and which columns it reads masked.

Both are SQL: the row filter joins the WHERE clause of every statement, and masks replace
columns in the SELECT list, so neither a hidden row nor a raw masked value leaves the database.

A table says where its rows lie with ``__area__``: the name of its grid-id column, or
``(foreign_key, ParentTable)`` for a row that lies wherever its parent lies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, false, not_, select, true

from gateway.auth import Principal
from gateway.kernel import graphql_name, plain_columns
from gateway.policy.masks import MASKS
from gateway.policy.model import Policy, TypeRule

OUTSIDE = "gw_outside_own_area"


def in_grids(model: type[Any], grid_ids: frozenset[int]) -> ColumnElement[bool]:
    """Rows of ``model`` lying in these grids, following ``__area__`` to a parent table if need be."""
    spec = getattr(model, "__area__", None)
    if spec is None:
        return true()
    if isinstance(spec, str):
        return getattr(model, spec).in_(sorted(grid_ids))  # type: ignore[no-any-return]
    foreign_key, parent = spec
    parents = select(parent.id).where(in_grids(parent, grid_ids))
    return getattr(model, foreign_key).in_(parents)  # type: ignore[no-any-return]


def has_area(model: type[Any]) -> bool:
    return getattr(model, "__area__", None) is not None


class PolicyScope:
    """Rows and columns as one policy grants them; tables with no GraphQL type are not scoped."""

    def __init__(self, policy: Policy, type_names: Mapping[type[Any], str]) -> None:
        self.policy = policy
        self.type_names = type_names

    def _rule(self, model: type[Any]) -> tuple[bool, TypeRule | None]:
        name = self.type_names.get(model)
        if name is None:
            return False, None
        return True, self.policy.rule(name)

    def condition(self, model: type[Any], principal: Principal) -> ColumnElement[bool] | None:
        typed, rule = self._rule(model)
        if not typed:
            return None
        if rule is None:
            return false()
        grids = _grids(rule.rows, principal)
        if grids is None or not has_area(model):
            return None
        return in_grids(model, grids)

    def columns(self, model: type[Any], principal: Principal) -> list[ColumnElement[Any]]:
        _, rule = self._rule(model)
        if rule is None or not (rule.masked or rule.own_area_only):
            return plain_columns(model)
        names = _field_names(model)
        own = principal.area.grid_ids
        inside = None if own is None or not has_area(model) or not rule.own_area_only else in_grids(model, own)
        columns: list[ColumnElement[Any]] = []
        for column in model.__table__.columns:
            field = names.get(column.key, column.key)
            expression: ColumnElement[Any] = column
            if field in rule.masked:
                expression = MASKS[rule.masked[field]].sql(column, model.__table__)
            elif field in rule.own_area_only and inside is not None:
                expression = case((inside, column), else_=None)
            columns.append(expression.label(column.key))
        if inside is not None:
            columns.append(not_(inside).label(OUTSIDE))
        return columns

    def page_limit(self, model: type[Any]) -> int | None:
        _, rule = self._rule(model)
        return None if rule is None else rule.limit


def _grids(rows: str, principal: Principal) -> frozenset[int] | None:
    if rows == "city":
        return None
    if rows == "street":
        return principal.area.street_grid_ids
    return principal.area.grid_ids


def _field_names(model: type[Any]) -> dict[str, str]:
    """Column key → the GraphQL field name that shows it."""
    return {column.key: graphql_name(column.key) for column in model.__table__.columns}
