"""One operation, whatever the transport: authenticate → choose schema → prepare → execute → audit → shape.

HTTP and WebSocket only translate: they read a request off the wire, call these steps, and
write what comes back. A rule added here holds on both.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote

from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLSchema,
    OperationDefinitionNode,
    get_operation_ast,
)

from gateway.audit import (
    OPERATION_TYPES,
    AuditEntry,
    Operation,
    PendingWrite,
    Probe,
    Touched,
    audit_entry,
    current,
    denied_from_errors,
    log_only_denials,
    probes,
)
from gateway.auth import Principal
from gateway.feed import GuardedFeed
from gateway.kernel import Context, GatewayError
from gateway.pipeline.execution import Executor, Prepared, error_dict, shape_errors
from gateway.pipeline.runtime import Runtime
from gateway.pipeline.text import unusable_text
from gateway.write import check_references, mutation_references

if TYPE_CHECKING:
    from gateway.pipeline.session import LiveSession

log = logging.getLogger("gateway.pipeline")

# Why an operation stopped before it ran; a transport turns each into its own status or close code.
Reason = Literal["unauthenticated", "purpose", "header", "invalid", "operation", "transport"]
# C0 controls, DEL and C1 controls: a NUL breaks a PostgreSQL insert, CR/LF forge log lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


class Refused(Exception):
    """The operation stops before execution, with the errors to hand back."""

    def __init__(self, reason: Reason, errors: list[dict[str, Any]]) -> None:
        super().__init__(reason)
        self.reason, self.errors = reason, errors

    @classmethod
    def one(cls, reason: Reason, message: str, code: str, **extra: Any) -> Refused:
        return cls(reason, [error_dict(message, code, **extra)])


class AuditFailure(Exception):
    """The audit record could not be written: data that cannot be audited is not handed out."""


def header_value(name: str, raw: str | None) -> str | None:
    """A header's value, refused before anything runs when it holds a control character."""
    if raw is not None and _CONTROL.search(raw):
        raise Refused.one("header", f"The {name} header holds a control character", "BAD_USER_INPUT", argument=name)
    return raw


def declared_purpose(raw: str | None) -> str | None:
    # Header values are Latin-1 on the wire; a purpose in Chinese arrives percent-encoded UTF-8.
    decoded = header_value("X-Purpose", unquote(header_value("X-Purpose", raw) or ""))
    return (decoded or "").strip() or None


async def authenticate(
    runtime: Runtime, authorization: str | None, purpose: str | None, fresh: bool = False
) -> Principal:
    """The principal behind a bearer token, who must also declare a purpose where that is required."""
    try:
        principal = await runtime.authenticator.authenticate(authorization, fresh)
    except GatewayError as error:
        raise Refused.one("unauthenticated", error.message, "UNAUTHENTICATED") from None
    if purpose is None and principal.record.kind == "partner" and runtime.settings.require_purpose_for_partners:
        message = "Partner agencies must declare a purpose: send an X-Purpose header"
        raise Refused.one("purpose", message, "BAD_USER_INPUT", argument="X-Purpose")
    return principal


@dataclass(frozen=True)
class Call:
    """One prepared operation of one principal: what runs, under which schema, and how it is recorded."""

    runtime: Runtime
    principal: Principal
    request: GraphQLRequest
    executor: Executor
    prepared: Prepared
    definition: OperationDefinitionNode
    operation: Operation

    @property
    def type(self) -> str:
        return self.operation.type

    async def execute(self) -> dict[str, Any]:
        """Run a query or mutation, append its audit record, and shape the reply."""
        context = self.runtime.context_for(self.principal)
        touched = Touched(write=self._pending_write(context))
        noted = current.set(touched)
        try:
            if self.type == "mutation":
                references = mutation_references(
                    self.executor.schema, self._document, self.definition, self.request.variables
                )
                await check_references(context, references)
            elif self.runtime.settings.compiled_reads:
                compiled = await self._compiled(context)
                if compiled is not None:
                    await self.audit(touched, context, outcome="ok")
                    return compiled
            result = await self.executor.run(self._document, self.request.variables, self._name, context)
        except GatewayError as error:
            # A write naming a row the caller cannot see: refused before anything ran.
            await self.audit(touched, context, outcome="error")
            return {"errors": [{"message": error.message, "extensions": dict(error.extensions or {})}], "data": None}
        finally:
            current.reset(noted)
        await self.audit(touched, context, outcome="error" if result.errors else "ok")
        return _shape(result, context.extensions)

    async def _compiled(self, context: Context) -> dict[str, Any] | None:
        """The reply from the read compiler, or None where the resolvers must answer."""
        policy = context.policy
        document = (policy.name if policy else None, self.runtime.policies.version, self.request.query, self._name)
        reply = await self.runtime.compiler.read(
            self.executor.schema, context, self.definition, self.request.variables, document
        )
        if reply is not None and context.extensions:
            reply["extensions"] = context.extensions
        return reply

    async def stream(self, session: LiveSession | None = None) -> AsyncIterator[dict[str, Any]]:
        """Run a subscription: each event is shaped and audited like the reply to a query; within a
        live session, each is read as the principal and policy of the moment it arrives."""
        context = self.runtime.context_for(self.principal)
        if session is not None and context.feed is not None:
            context.feed = GuardedFeed(context.feed, session.follow(context, self.request.query))
        stream = await self.executor.subscribe(self._document, self.request.variables, self._name, context)
        if isinstance(stream, ExecutionResult):
            raise Refused("invalid", shape_errors(stream))
        touched = Touched()
        noted = current.set(touched)
        try:
            async for result in stream:
                extensions = dict(context.extensions)
                context.extensions.clear()
                # Recorded under the principal the event was read as (its area or token may have moved on).
                reader = replace(self, principal=context.principal)
                await reader.audit(touched, context, redacted=extensions.get("redacted", ()))
                touched.rows.clear()
                yield _shape(result, extensions)
        finally:
            current.reset(noted)
            closing = getattr(stream, "aclose", None)
            if closing is not None:
                await closing()

    async def audit(self, touched: Touched, context: Context, **details: Any) -> None:
        policy = context.policy
        denied = (
            ()
            if policy is None or policy.enforce
            else log_only_denials(policy, self.prepared.selected, self.runtime.sensitive)
        )
        details.setdefault("redacted", context.extensions.get("redacted", ()))
        details.setdefault("policy", policy)
        await self.record(touched.rows, denied=denied, **details)

    def _pending_write(self, context: Context) -> PendingWrite | None:
        """A mutation's record as known before it runs, for each write transaction to commit with."""
        if self.type != "mutation":
            return None
        entry = self._entry({}, policy=context.policy)
        return None if entry is None else PendingWrite(entry, self.runtime.type_names)

    def _entry(self, rows: dict[str, set[int]], **details: Any) -> AuditEntry | None:
        return audit_entry(
            self.principal,
            self.operation,
            self.runtime.policies.version,
            self.prepared.selected,
            self.runtime.sensitive,
            rows,
            probes=self._probes(),
            attributes=self.runtime.attributes,
            **details,
        )

    def _probes(self) -> tuple[Probe, ...]:
        return _probes(self.runtime, self.executor.schema, self._document, self.definition, self.request.variables)

    async def record(self, rows: dict[str, set[int]], **details: Any) -> None:
        details.setdefault("policy", self.runtime.policy_for(self.principal))
        entry = self._entry(rows, **details)
        if entry is None:
            return
        try:
            await self.runtime.audit.append(entry)
        except Exception as error:
            log.exception("audit append failed; withholding the response")
            raise AuditFailure from error

    @property
    def _document(self) -> Any:
        assert self.prepared.document is not None
        return self.prepared.document

    @property
    def _name(self) -> str | None:
        return self.request.operation_name


async def prepare(runtime: Runtime, principal: Principal, request: GraphQLRequest, purpose: str | None) -> Call:
    """Choose the principal's schema, parse and validate there, and pick the operation to run."""
    executor = runtime.executor_for(principal)
    prepared = executor.prepare(request.query)
    if prepared.document is None:
        await _audit_refusal(runtime, principal, request, purpose, prepared.errors)
        raise Refused("invalid", list(prepared.errors))
    unusable = unusable_text(prepared.document, request.variables)
    if unusable is not None:
        raise Refused.one(
            "invalid", f"{unusable} holds a NUL character or a lone surrogate", "BAD_USER_INPUT", argument=unusable
        )
    definition = executor.operation(prepared.document, request.operation_name)
    if definition is None:
        raise Refused.one("operation", "Unknown or ambiguous operationName", "BAD_USER_INPUT")
    name = definition.name.value if definition.name else None
    operation = Operation(request.query, name, OPERATION_TYPES[definition.operation.value], purpose)
    return Call(runtime, principal, request, executor, prepared, definition, operation)


def _shape(result: ExecutionResult, extensions: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {}
    if result.errors:
        reply["errors"] = shape_errors(result)
    reply["data"] = result.data
    if extensions:
        reply["extensions"] = extensions
    return reply


async def _audit_refusal(
    runtime: Runtime,
    principal: Principal,
    request: GraphQLRequest,
    purpose: str | None,
    errors: tuple[dict[str, Any], ...],
) -> None:
    """A document that asks for fields hidden from the caller (valid in the full schema) is audited as denied,
    with its operation's name, type and arguments as the document gives them."""
    document = runtime.full_executor.prepare(request.query).document
    if document is None:
        return
    definition = get_operation_ast(document, request.operation_name)
    name = definition.name.value if definition is not None and definition.name else request.operation_name
    kind = OPERATION_TYPES[definition.operation.value] if definition is not None else "query"
    schema = runtime.full_executor.schema
    denied = denied_from_errors([str(e["message"]) for e in errors])
    operation = Operation(request.query, name, kind, purpose)
    entry = audit_entry(
        principal,
        operation,
        runtime.policies.version,
        (),
        runtime.sensitive,
        {},
        denied=denied,
        outcome="denied",
        probes=_probes(runtime, schema, document, definition, request.variables),
    )
    if entry is not None:
        try:
            await runtime.audit.append(entry)
        except Exception as error:
            log.exception("audit append failed for a refused operation")
            raise AuditFailure from error


def _probes(
    runtime: Runtime,
    schema: GraphQLSchema,
    document: DocumentNode,
    definition: OperationDefinitionNode | None,
    variables: dict[str, Any] | None,
) -> tuple[Probe, ...]:
    return probes(schema, document, definition, variables, runtime.sensitive, runtime.audit.key(runtime.settings))
