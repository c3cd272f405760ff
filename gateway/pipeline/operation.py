"""One operation, whatever the transport: authenticate → choose schema → prepare → execute → audit → shape.

HTTP and WebSocket only translate: they read a request off the wire, call these steps, and
write what comes back. A rule added here holds on both.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Iterator
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
    operation_hash,
    probes,
)
from gateway.auth import Principal
from gateway.compile import variables_key
from gateway.data import PoolExhausted, decode_id
from gateway.documents import AutomaticDocuments, Document
from gateway.feed import EventSource, GuardedFeed
from gateway.kernel import Context, GatewayError, QueryTooComplex
from gateway.ops import OPERATION_COST, labelled
from gateway.pipeline.documents import DocumentRefusal, resolve_document
from gateway.pipeline.execution import Executor, Prepared, error_dict, shape_errors
from gateway.pipeline.rates import Exceeded
from gateway.pipeline.runtime import Runtime
from gateway.pipeline.text import unusable_text
from gateway.policy import current_budgets
from gateway.write import check_references, mutation_references

if TYPE_CHECKING:
    from gateway.pipeline.session import LiveSession

log = logging.getLogger("gateway.pipeline")

# Why an operation stopped before it ran; a transport turns each into its own status or close code.
Reason = Literal["unauthenticated", "purpose", "header", "invalid", "operation", "transport", "limited", "document"]
# C0 controls, DEL and C1 controls: a NUL breaks a PostgreSQL insert, CR/LF forge log lines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Format characters (bidi overrides, zero-width joiners), line and paragraph separators, private use.
_HIDDEN = frozenset({"Cf", "Zl", "Zp", "Co", "Cs", "Cn"})
# Letters and symbols that print as nothing (Hangul fillers, the blank Braille cell).
_BLANK = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def _hidden(ch: str) -> bool:
    """A character a reader of the trail would not see, or would take for another: spaces other
    than the ordinary and the ideographic one count too (two purposes that look alike must be alike)."""
    category = unicodedata.category(ch)
    return category in _HIDDEN or ch in _BLANK or (category == "Zs" and ch not in " \u3000")


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    # A document named by hash (documentId, or the APQ extension when ``automatic``); see pipeline.documents.
    document_id: str | None = None
    automatic: bool = False


class Refused(Exception):
    """The operation stops before execution, with the errors to hand back."""

    def __init__(self, reason: Reason, errors: list[dict[str, Any]], retry_after: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.errors, self.retry_after = reason, errors, retry_after

    @classmethod
    def one(cls, reason: Reason, message: str, code: str, **extra: Any) -> Refused:
        return cls(reason, [error_dict(message, code, **extra)])


class Overloaded(Exception):
    """The gateway cannot serve this now (an operation ran out of time, no database connection was
    free): the caller is told to retry later (HTTP 503, Retry-After), with nothing written."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message, self.code = message, code


BUSY = "The gateway is busy: no database connection came free in time; retry later"


class AuditFailure(Exception):
    """The audit record could not be written: data that cannot be audited is not handed out."""


def header_value(name: str, raw: str | None) -> str | None:
    """A header's value, refused before anything runs when it holds a control character, or (once
    decoded) an invisible one: bidi overrides and line separators would disguise it in the trail."""
    if raw is None or (raw.isascii() and raw.isprintable()):
        return raw
    if _CONTROL.search(raw) or any(_hidden(ch) for ch in raw):
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
    document: Document | None = None
    # Measured before it runs (see cost.py): decides whether it waits for a heavy slot, and
    # what it spends of a cost rate limit.
    cost: int = 1

    @property
    def type(self) -> str:
        return self.operation.type

    async def execute(self) -> dict[str, Any]:
        """Run a query or mutation, append its audit record, and shape the reply."""
        # One trace span per operation when tracing is on: its name, type and hashes, never text or values.
        with self.runtime.tracer.start_as_current_span(f"graphql.{self.type}", attributes=self._span_attributes()):
            return await self._execute()

    def _span_attributes(self) -> dict[str, str | int]:
        found: dict[str, str | int] = {
            "graphql.operation.type": self.type,
            "graphql.operation.name": self.operation.name or "",
            "graphql.document.hash": operation_hash(self.request.query),
            "gateway.cost": self.cost,
        }
        if self.document is not None:
            found["gateway.document.client"] = self.document.client
        return found

    async def _execute(self) -> dict[str, Any]:
        context = self.runtime.context_for(self.principal)
        touched = Touched(write=self._pending_write(context))
        noted = current.set(touched)
        budgets = current_budgets.set(self.runtime.budgets)
        timeout = self.runtime.settings.operation_timeout or None
        try:
            # Cancelled past the time-out: a mutation's transaction rolls back with the cancellation.
            async with asyncio.timeout(timeout), self.runtime.admission.admit(self.cost):
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
        except TimeoutError:
            await self._audit_unserved(touched, context)
            raise Overloaded(f"The operation ran longer than {timeout:g} s and was stopped", "TIMEOUT") from None
        except PoolExhausted:
            await self._audit_unserved(touched, context)
            raise Overloaded(BUSY, "UNAVAILABLE") from None
        except GatewayError as error:
            # A write naming a row the caller cannot see: refused before anything ran.
            await self.audit(touched, context, outcome="error")
            return {"errors": [{"message": error.message, "extensions": dict(error.extensions or {})}], "data": None}
        finally:
            current.reset(noted)
            current_budgets.reset(budgets)
        if any(isinstance(error.original_error, PoolExhausted) for error in result.errors or ()):
            await self._audit_unserved(touched, context)
            raise Overloaded(BUSY, "UNAVAILABLE")
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

    async def stream(
        self, session: LiveSession | None = None, feed: EventSource | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Run a subscription: each event is shaped and audited like the reply to a query; within a
        live session, each is read as the principal and policy of the moment it arrives. ``feed``
        replaces the live feed (a webhook delivers one stored event at a time)."""
        context = self.runtime.context_for(self.principal)
        if feed is not None:
            context.feed = feed
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

    async def _audit_unserved(self, touched: Touched, context: Context) -> None:
        """An operation stopped for want of time or connections is recorded when it can be; nothing
        is handed out, so a record that cannot be written (the database is what is overloaded)
        does not change the answer."""
        with contextlib.suppress(AuditFailure):
            await self.audit(touched, context, outcome="error")

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
            document=None if self.document is None else (self.document.hash, self.document.client),
            **details,
        )

    def _probes(self) -> tuple[Probe, ...]:
        return _probes(self.runtime, self.executor.schema, self._document, self.definition, self.request.variables)

    async def still_readable(self, answer: dict[str, Any]) -> dict[str, set[int]] | None:
        """The rows a stored answer names (by their global IDs), if the caller may read every one
        of them now; None when one has left its sight (moved out of its area, say): handing the
        answer out again would show what a fresh read would not."""
        context = self.runtime.context_for(self.principal)
        rows: dict[str, set[int]] = {}
        for type_name, pk in _named_rows(answer.get("data")):
            fetch = self.runtime.nodes.get(type_name)
            if fetch is None:
                continue
            if await fetch(context, pk) is None:
                return None
            rows.setdefault(type_name, set()).add(pk)
        return rows

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
    name = request.operation_name
    if name is not None and not _OPERATION_NAME.fullmatch(name):
        # Refused before anything is recorded: a name no operation can bear would otherwise reach the
        # records of a refusal as sent (a lone surrogate failing the append, bidi or private-use
        # characters disguising a record the X-Purpose header would refuse).
        raise Refused.one("operation", NOT_A_NAME, "BAD_USER_INPUT", argument="operationName")
    try:
        request, document = await resolve_document(runtime, principal, request)
    except DocumentRefusal as refusal:
        if refusal.code == "FORBIDDEN":
            await _audit_limited(runtime, principal, request, purpose, None, "denied")
        raise Refused.one("document", refusal.message, refusal.code) from None
    policy = runtime.policy_for(principal)
    await _within(
        runtime, principal, request, purpose, document, await runtime.rates.spend(principal, policy, "requests")
    )
    executor = runtime.executor_for(principal)
    prepared = executor.prepare(request.query)
    if prepared.document is None:
        await _audit_refusal(runtime, principal, request, purpose, prepared.errors)
        raise Refused("invalid", list(prepared.errors))
    unusable = unusable_text(request.variables, prepared.unusable)
    if unusable is not None:
        raise Refused.one(
            "invalid", f"{unusable} holds a NUL character or a lone surrogate", "BAD_USER_INPUT", argument=unusable
        )
    if document is not None and document.client == AutomaticDocuments.CLIENT:
        runtime.automatic_documents.register(document.hash, document.body)
    definition = executor.operation(prepared.document, request.operation_name)
    if definition is None:
        raise Refused.one("operation", "Unknown or ambiguous operationName", "BAD_USER_INPUT")
    try:
        cost = executor.cost(prepared.document, definition, request.variables)
    except QueryTooComplex as error:
        raise Refused("invalid", [error_dict(error.message, **dict(error.extensions or {}))]) from None
    name = definition.name.value if definition.name else None
    operation = Operation(request.query, name, OPERATION_TYPES[definition.operation.value], purpose)
    await _within(
        runtime, principal, request, purpose, document, await runtime.rates.spend(principal, policy, "cost", cost)
    )
    labelled(OPERATION_COST, principal.role).observe(cost)
    return Call(runtime, principal, request, executor, prepared, definition, operation, document=document, cost=cost)


async def _within(
    runtime: Runtime,
    principal: Principal,
    request: GraphQLRequest,
    purpose: str | None,
    document: Document | None,
    exceeded: Exceeded | None,
) -> None:
    """Nothing when within the rate limits; else the refusal is audited and raised (HTTP 429)."""
    if exceeded is None:
        return
    await _audit_limited(runtime, principal, request, purpose, document, "limited")
    error = error_dict(exceeded.message, "RATE_LIMITED", retryAfter=exceeded.retry_after, limit=exceeded.limit)
    raise Refused("limited", [error], retry_after=exceeded.retry_after)


_KEYWORD = re.compile(r"^\s*(query|mutation|subscription)\b")
# A GraphQL Name: the only names an operation can bear.
_OPERATION_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
NOT_A_NAME = "operationName must be a GraphQL name (a letter or underscore, then letters, digits or underscores)"


async def _audit_limited(
    runtime: Runtime,
    principal: Principal,
    request: GraphQLRequest,
    purpose: str | None,
    document: Document | None,
    outcome: Literal["limited", "denied"],
) -> None:
    """A refusal before the document is parsed (a rate limit, a document not trusted): recorded with
    the operation's name as sent and the document's shape hash; the text itself is not parsed."""
    found = _KEYWORD.match(request.query)
    kind = OPERATION_TYPES[found.group(1)] if found else "query"
    operation = Operation(request.query, request.operation_name, kind, purpose)
    entry = audit_entry(
        principal,
        operation,
        runtime.policies.version,
        (),
        runtime.sensitive,
        {},
        outcome=outcome,
        document=None if document is None else (document.hash, document.client),
    )
    if entry is not None:
        try:
            await runtime.audit.append(entry)
        except Exception as error:
            log.exception("audit append failed for a refused operation")
            raise AuditFailure from error


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
    key = runtime.audit.key(runtime.settings)
    given = variables_key(definition, variables)
    if given is None:
        return probes(schema, document, definition, variables, runtime.sensitive, key)
    # The probes of a parsed document (executors keep one per text) run again with the same variables
    # under the same schema are the same: kept, so a busy page is not walked on every request.
    # By identity: a syntax tree hashes and compares by walking all of it. The document is kept
    # with its probes, so an id is never taken for another document's.
    kept = (id(schema), id(document), id(definition), given, key)
    found = runtime.probes.get(kept)
    if found is not None and found[0] is document:
        return found[1]
    made = probes(schema, document, definition, variables, runtime.sensitive, key)
    return runtime.probes.put(kept, (document, made))[1]


def _named_rows(value: Any) -> Iterator[tuple[str, int]]:
    """Every (type, key) an answer names through an ``id`` field holding a global ID."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "id" and isinstance(item, str):
                with contextlib.suppress(GatewayError):
                    yield decode_id(item)
            else:
                yield from _named_rows(item)
    elif isinstance(value, list):
        for item in value:
            yield from _named_rows(item)
