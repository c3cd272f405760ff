"""Row scope: which rows of a table a principal may read, and which columns it reads masked.

Both are SQL: the row filter joins the WHERE clause of every statement, and masks replace
columns in the SELECT list, so neither a hidden row nor a raw masked value leaves the database.

A table says where its rows lie with ``__area__``: the name of its grid-id column, or
``(foreign_key, ParentTable)`` for a row that lies wherever its parent lies. A column holding
another type's attribute (``__reads__ = {"phone": "Staff.phone"}``) is masked, or withheld, by
that attribute's rule (see ``gateway.policy.attributes``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, false, not_, null, select, true

from gateway.auth import Principal
from gateway.kernel import graphql_name, plain_columns
from gateway.policy.attributes import attribute, mask_of
from gateway.policy.masks import MASKS
from gateway.policy.model import Access, Policy, TypeRule

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
        name, rule = self.type_names.get(model), self._rule(model)[1]
        reads: Mapping[str, str] = getattr(model, "__reads__", {})
        if name is None or rule is None or not (rule.masked or rule.own_area_only or reads):
            return plain_columns(model)
        names = _field_names(model)
        own = own_grids(principal)
        decided = {c.key: self._column(name, names[c.key], reads.get(c.key)) for c in model.__table__.columns}
        for key in reads:
            if decided[key][0] == "own_area_only" and not has_area(model):
                decided[key] = ("denied", None)  # a row-dependent rule needs rows that lie in an area
        row_dependent = any(access == "own_area_only" for access, _ in decided.values())
        inside = None if not has_area(model) or not row_dependent else in_grids(model, own)
        columns: list[ColumnElement[Any]] = []
        for column in model.__table__.columns:
            access, mask = decided[column.key]
            expression: ColumnElement[Any] = column
            if mask is not None:
                expression = MASKS[mask].sql(column, model.__table__)
            elif access == "own_area_only" and inside is not None:
                expression = case((inside, column), else_=None)
            elif access == "denied" and column.key in reads:
                # Another type's attribute this reader may not read: never fetched at all.
                expression = null()
            columns.append(expression.label(column.key))
        if inside is not None:
            columns.append(not_(inside).label(OUTSIDE))
        return columns

    def _column(self, type_name: str, field_name: str, reads: str | None) -> tuple[Access, str | None]:
        """A column's access and mask: its own type's rule, or the rule of the attribute it holds."""
        home = attribute(reads) if reads else (type_name, field_name)
        rule = self.policy.rule(home[0])
        if rule is None or self.policy.rule(type_name) is None:
            return "denied", None
        access = rule.access(home[1])
        return access, mask_of(self.policy, home) if access == "masked" else None

    def page_limit(self, model: type[Any]) -> int | None:
        _, rule = self._rule(model)
        return None if rule is None else rule.limit


def _grids(rows: str, principal: Principal) -> frozenset[int] | None:
    """The grids a rule's rows lie in; None for every row (``rows: city``)."""
    if rows == "city":
        return None
    return own_grids(principal, street=rows == "street")


def own_grids(principal: Principal, street: bool = False) -> frozenset[int]:
    """The grids of the principal's own area (or of its street). A principal whose area is the whole
    city has none of its own: a rule bound to an area grants it nothing. City-wide principals are
    granted with ``rows: city``; a grid worker, a committee or a street agency whose area is missing
    from the directory (a cleared grid, say) would otherwise have read the whole city."""
    grids = principal.area.street_grid_ids if street else principal.area.grid_ids
    return frozenset() if grids is None else grids


def _field_names(model: type[Any]) -> dict[str, str]:
    """Column key → the GraphQL field name that shows it."""
    return {column.key: graphql_name(column.key) for column in model.__table__.columns}
