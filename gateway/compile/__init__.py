"""The compiled read path: a query planned against the reader's policy, answered by one JSON-building
statement per source per link level, or None where it must run through the resolvers.

    compiler = ReadCompiler(models, attributes)
    reply = await compiler.read(schema, context, definition, variables, key)
    if reply is None: ...  # today's resolvers, for the whole operation

Plans — and the statements of their root lists — are kept per (policy, document, operation,
variables, reader's area): a page asked again costs no planning and no statement building.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping
from typing import Any

from graphql import GraphQLSchema, OperationDefinitionNode

from gateway.compile.keys import variables_key
from gateway.compile.marks import PLAN, ROOT_LIST, Children, Link, Many, RootList
from gateway.compile.plan import Planner, Unplannable, coerced_variables
from gateway.compile.run import Plan, Run
from gateway.compile.sql import Builder
from gateway.data import PoolExhausted
from gateway.kernel import Context, Kept
from gateway.policy import Attributes

log = logging.getLogger("gateway.compile")

__all__ = ["PLAN", "ROOT_LIST", "Children", "Link", "Many", "ReadCompiler", "RootList", "variables_key"]


class ReadCompiler:
    def __init__(self, models: Mapping[str, type[Any]], attributes: Attributes, size: int = 512) -> None:
        self.models, self.attributes = models, attributes
        self._plans: Kept[Hashable, Plan | None] = Kept(size)

    async def read(
        self,
        schema: GraphQLSchema,
        ctx: Context,
        definition: OperationDefinitionNode,
        variables: dict[str, Any] | None,
        document_key: Hashable,
    ) -> dict[str, Any] | None:
        """``{"data": …}`` (withheld values reported in ``ctx.extensions``), or None to fall back."""
        given = variables_key(definition, variables)
        key = (document_key, given, ctx.principal.area)
        if given is None:
            plan = self._plan(schema, ctx, definition, variables)
        elif key in self._plans:
            plan = self._plans.get(key)
        else:
            plan = self._plans.put(key, self._plan(schema, ctx, definition, variables))
        if plan is None:
            return None
        run = Run(ctx)
        try:
            data = await run.answer(plan)
        except Unplannable as reason:
            log.debug("falling back to the resolvers: %s", reason)
            if given is not None:
                self._plans.put(key, None)
            return None
        except PoolExhausted:
            raise  # overloaded: the resolvers would wait for connections too
        except Exception:
            # Nothing was noted or reported yet: the resolvers answer as if the compiler had not tried.
            log.exception("compiled read failed; the resolvers answer instead")
            return None
        if run.redacted:
            ctx.extensions.setdefault("redacted", []).extend(run.redacted)
        return {"data": data}

    def _plan(
        self, schema: GraphQLSchema, ctx: Context, definition: OperationDefinitionNode, variables: dict[str, Any] | None
    ) -> Plan | None:
        try:
            coerced = coerced_variables(schema, definition, variables)
            dialects = {
                d: ctx.databases.engine(d).dialect.name for d in {str(m.__domain__) for m in self.models.values()}
            }
            roots = Planner(schema, self.models, ctx, self.attributes, coerced, dialects).roots(definition)
            plan: Plan = []
            for root in roots:
                domain = str(root.connection.node.model.__domain__)
                statement = Builder(ctx, dialects[domain]).root(root.connection)
                plan.append((root, ctx.databases.ready(domain, statement)))
            return plan
        except Unplannable as reason:
            log.debug("falling back to the resolvers: %s", reason)
            return None
