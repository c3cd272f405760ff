"""What a domain tells the read compiler about a field, in the field's metadata under ``PLAN``.

A field with no resolver that names a column of its type's table, ``id``, and a computed field
(``COMPUTED_FROM``, a plain method of the object) need no mark. A field with a resolver is
compiled only when it carries one of these marks, which say in data what its resolver does:

- ``ROOT_LIST``: a root connection over every row of its node type in the reader's scope, by key.
- ``Link("household_id")``: the row of the field's type whose key is the parent's column.
- ``Children("grid_id")``: a connection over the rows of the node type whose column holds the parent's key;
  ``Children("resident_id", via="DisputeParty", via_key="dispute_id")``: whose key a row of another
  table of the same source pairs with the parent's (the column is then that table's).
- ``Many("dispute_id")``: a plain list of the rows of the field's type whose column holds the parent's key.

Arguments other than ``first``/``after`` make the field fall back to its resolver unless absent or null.
"""

from __future__ import annotations

from dataclasses import dataclass

PLAN = "compiled_plan"


@dataclass(frozen=True)
class RootList:
    """Every row of the connection's node type the reader may see, ordered by primary key."""


@dataclass(frozen=True)
class Link:
    """The row of the field's type whose primary key is the parent's column ``key`` (None when hidden)."""

    key: str


@dataclass(frozen=True)
class Children:
    """The rows of the connection's node type whose column ``key`` holds the parent's primary key."""

    key: str
    # A table (by its GraphQL type) pairing parent and child keys: ``via.key`` = parent, ``via.via_key`` = child.
    via: str | None = None
    via_key: str = ""


@dataclass(frozen=True)
class Many:
    """Every row of the field's type whose column ``key`` holds the parent's primary key, by key."""

    key: str


ROOT_LIST = RootList()
