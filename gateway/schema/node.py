"""The Relay ``Node`` interface, global-ID look-up, and building GraphQL objects from rows."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from gateway.audit import note_row
from gateway.data import encode_id, load_one
from gateway.kernel import Context
from gateway.policy import OUTSIDE

T = TypeVar("T")
NodeFetcher = Callable[[Context, int], Awaitable[Any | None]]


@strawberry.interface(description="可按全局标识查找的对象 / an object that can be fetched by its global ID")
class Node:
    db_id: strawberry.Private[int]

    @strawberry.field(description="全局标识 / opaque global ID")
    def id(self) -> strawberry.ID:
        return strawberry.ID(encode_id(type(self).__name__, self.db_id))


def from_row(cls: type[T], row: Any, **values: Any) -> T:
    """Build a GraphQL object from a row: each plain field takes the row attribute of its name.

    ``db_id`` takes the row's primary key; ``values`` override or add fields.
    """
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init or f.name in values:
            continue
        kwargs[f.name] = row.id if f.name == "db_id" else getattr(row, f.name)
    kwargs.update(values)
    made = cls(**kwargs)
    if "db_id" in kwargs:
        note_row(cls.__name__, kwargs["db_id"])
    if getattr(row, OUTSIDE, False):
        # Carried to the resolvers of row-dependent fields, which report the redaction.
        made.__dict__[OUTSIDE] = True
    return made


def node_fetcher(model: type[Any], cls: type[Any]) -> NodeFetcher:
    """Fetch one row of ``model`` by primary key, through the scope, as a ``cls`` object."""

    async def fetch(ctx: Context, pk: int) -> Any | None:
        row = await load_one(ctx, model, pk)
        return None if row is None else from_row(cls, row)

    return fetch
