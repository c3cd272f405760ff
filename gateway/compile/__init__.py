"""The compiled read path: a query planned against the reader's policy, answered by one JSON-building
statement per source per link level, or None where it must run through the resolvers.

    answer = await compiled_read(schema, models, attributes, context, definition, variables)
    if answer is None: ...  # today's resolvers, for the whole operation
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode

from gateway.compile.marks import PLAN, ROOT_LIST, Children, Link, Many, RootList
from gateway.compile.plan import Planner, Unplannable, coerced_variables
from gateway.compile.run import Run
from gateway.kernel import Context
from gateway.policy import Attributes

log = logging.getLogger("gateway.compile")

__all__ = ["PLAN", "ROOT_LIST", "Children", "Link", "Many", "RootList", "compiled_read"]


async def compiled_read(
    schema: GraphQLSchema,
    models: Mapping[str, type[Any]],
    attributes: Attributes,
    ctx: Context,
    definition: OperationDefinitionNode,
    variables: dict[str, Any] | None,
) -> dict[str, Any] | None:
    """``{"data": …}`` (and ``extensions`` where values were withheld), or None to fall back."""
    try:
        coerced = coerced_variables(schema, definition, variables)
        dialects = {str(m.__domain__): ctx.databases.engine(str(m.__domain__)).dialect.name for m in models.values()}
        roots = Planner(schema, models, ctx, attributes, coerced, dialects).roots(definition)
    except Unplannable as reason:
        log.debug("falling back to the resolvers: %s", reason)
        return None
    run = Run(ctx)
    try:
        data = await run.answer(roots)
    except Unplannable as reason:
        log.debug("falling back to the resolvers: %s", reason)
        return None
    reply: dict[str, Any] = {"data": data}
    if run.redacted:
        ctx.extensions.setdefault("redacted", []).extend(run.redacted)
    return reply
