"""The planned shape of a read: what each selected field is, in terms the SQL builder understands."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

Convert = Callable[[Any], Any]


@dataclass
class Column:
    """A column of the node's table (masked in SQL where the policy says), or the node's global id."""

    key: str
    column: str
    convert: Convert | None = None
    row_dependent: bool = False
    global_id: bool = False


@dataclass
class Computed:
    """A value a plain method of the node's class computes from columns (``COMPUTED_FROM``)."""

    key: str
    function: Callable[[Any], Any]
    inputs: tuple[str, ...]
    decode: dict[str, Convert]
    serialize: Convert


@dataclass
class LinkTo:
    key: str
    node: NodeShape
    parent_column: str
    same_source: bool
    # A cross-source link's statement, compiled the first time the plan runs it (see compile.run).
    statement: Any = None


@dataclass
class ChildList:
    key: str
    connection: ConnectionShape
    same_source: bool
    statement: Any = None


@dataclass
class ManyList:
    key: str
    node: NodeShape
    column: str
    statement: Any = None


Field = Column | Computed | LinkTo | ChildList | ManyList


# The kinds of NodeShape.steps.
COLUMN, GLOBAL_ID, OTHER = 0, 1, 2


@dataclass
class NodeShape:
    type_name: str
    cls: type[Any]
    model: type[Any]
    fields: list[Field] = field(default_factory=list)
    # Where each value sits in a row's JSON array, decided when the statement is built.
    at: dict[str, int] = field(default_factory=dict)
    outside_at: int | None = None
    inline_at: dict[int, int] = field(default_factory=dict)

    @cached_property
    def steps(self) -> list[tuple[int, str, Any, Any, bool]]:
        """How each field of a row is answered, in the selection's order, for compile.run: a column
        (``COLUMN``: its place in the row, its conversion, whether it may be withheld for the row),
        the global id (``GLOBAL_ID``) or anything else (``OTHER``: its index among the fields, the
        field, whether a value under it may be withheld). Made once per plan, after its statement
        placed the columns (``at``)."""
        made: list[tuple[int, str, Any, Any, bool]] = []
        for index, f in enumerate(self.fields):
            if isinstance(f, Column) and f.global_id:
                made.append((GLOBAL_ID, f.key, None, None, False))
            elif isinstance(f, Column):
                made.append((COLUMN, f.key, self.at[f.column], f.convert, f.row_dependent))
            else:
                made.append((OTHER, f.key, index, f, _inner_reports(f)))
        return made

    @cached_property
    def reports(self) -> bool:
        """Whether a value of this node, or of a node under it, may be withheld for its row (and its
        path reported under ``extensions.redacted``): where none can, no path is ever written. Decided
        from the plan alone, not from where a statement placed the rows' outside flag (``outside_at``):
        a cross-source link's statement is built only the first time it has keys to read."""
        for f in self.fields:
            if isinstance(f, Column) and f.row_dependent:
                return True
            if _inner_reports(f):
                return True
        return False

    def columns(self) -> list[str]:
        """Column keys the row must carry: the key first, then what fields and links read."""
        needed = ["id"]
        for f in self.fields:
            keys = (
                [f.column]
                if isinstance(f, Column)
                else list(f.inputs)
                if isinstance(f, Computed)
                else [f.parent_column]
                if isinstance(f, LinkTo)
                else []
            )
            needed.extend(k for k in keys if k not in needed)
        return needed


def _inner_reports(f: Field) -> bool:
    """Whether a value may be withheld in the nodes a link or a nested list answers."""
    if isinstance(f, ChildList):
        return f.connection.node.reports
    return isinstance(f, LinkTo | ManyList) and f.node.reports


@dataclass
class ConnectionShape:
    node: NodeShape
    first: int
    after: int | None
    # (response key, part, sub-selection): part is totalCount, nodes, edges or pageInfo; the
    # sub-selection of edges and pageInfo is a list of (response key, field name).
    parts: list[tuple[str, str, list[tuple[str, str]]]] = field(default_factory=list)
    # For a nested list: the child's column holding the parent's key (or, through ``via``, that table's).
    parent_column: str | None = None
    via: type[Any] | None = None
    via_key: str = ""

    @property
    def wants_total(self) -> bool:
        return any(part == "totalCount" for _, part, _ in self.parts)


@dataclass
class RootField:
    key: str
    connection: ConnectionShape
