"""What every mutation shares around its write: the client's idempotency key (``clientMutationId``)
taken in and echoed back, the version an update is based on, the row it changes (found, locked,
and in the caller's area), and that row as the caller may see it once written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from gateway.data import load_one
from gateway.kernel import Context
from gateway.write.inputs import pk as input_pk
from gateway.write.transactions import authorize, visible_row

T = TypeVar("T")

IDEMPOTENCY_KEY = "客户端请求号(幂等) / idempotency key"
ECHOED_KEY = "客户端请求号 / your idempotency key"
BASED_ON = "所依据的版本号 / the version this change is based on"


def client_mutation_id_field() -> Any:
    """An input's ``clientMutationId``: optional; a retry sends the same one."""
    return strawberry.field(default=None, description=IDEMPOTENCY_KEY)


def echoed_client_mutation_id_field() -> Any:
    """A payload's ``clientMutationId``: the input's, handed back."""
    return strawberry.field(description=ECHOED_KEY)


def expected_version_field(*, required: bool = False) -> Any:
    """An input's ``expectedVersion``: the version the change was made against (see ``expect_version``)."""
    if required:
        return strawberry.field(description=BASED_ON)
    return strawberry.field(default=None, description=BASED_ON)


async def row_to_change(
    ctx: Context, session: AsyncSession, mutation: str, model: type[Any], type_name: str, given: object, argument: str
) -> Any:
    """The row ``given`` (a global ID sent as ``argument``) names: locked, one the caller may see
    (NOT_FOUND otherwise), and in its area where the grant says ``check: area``."""
    row = await visible_row(ctx, session, model, input_pk(str(given), type_name, argument), type_name)
    authorize(ctx, mutation, row.grid_id)
    return row


async def written(ctx: Context, model: type[Any], pk: int, convert: Callable[[Any], T]) -> T | None:
    """The row a mutation wrote, read afresh as the caller may now see it (None when hidden)."""
    row = await load_one(ctx, model, pk)
    return None if row is None else convert(row)
