"""Row scope: which rows of a table a principal may read, as a SQL condition."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import ColumnElement

from gateway.principal import Principal


class RowScope(Protocol):
    def condition(self, model: type[Any], principal: Principal) -> ColumnElement[bool] | None: ...


class OpenScope:
    """Every row for every principal; the policy engine supplies the real scope."""

    def condition(self, model: type[Any], principal: Principal) -> ColumnElement[bool] | None:
        return None
