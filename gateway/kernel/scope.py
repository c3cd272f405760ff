"""The contract between reads and policies: which rows of a table a principal reads, and how.

The data layer asks a ``RowScope``; the policy layer answers with one built from a policy
(``gateway.policy.PolicyScope``). ``OpenScope`` is the answer of a gateway run without policies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import ColumnElement

if TYPE_CHECKING:
    from gateway.auth import Principal


class RowScope(Protocol):
    def condition(self, model: type[Any], principal: Principal) -> ColumnElement[bool] | None: ...

    def columns(self, model: type[Any], principal: Principal) -> list[ColumnElement[Any]]: ...

    def page_limit(self, model: type[Any]) -> int | None: ...


def plain_columns(model: type[Any]) -> list[ColumnElement[Any]]:
    return [column.label(column.key) for column in model.__table__.columns]


class OpenScope:
    """Every row and every raw value: the scope of a gateway run without policies."""

    def condition(self, model: type[Any], principal: Principal) -> ColumnElement[bool] | None:
        return None

    def columns(self, model: type[Any], principal: Principal) -> list[ColumnElement[Any]]:
        return plain_columns(model)

    def page_limit(self, model: type[Any]) -> int | None:
        return None
