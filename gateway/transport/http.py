"""The ``/graphql`` endpoint: GraphQL over HTTP (POST JSON, GET for queries), bearer auth first."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.audit import (
    OPERATION_TYPES,
    Operation,
    Touched,
    audit_entry,
    current,
    denied_from_errors,
    log_only_denials,
)
from gateway.auth import Principal
from gateway.kernel import GatewayError
from gateway.pipeline import Executor, Prepared, Runtime, error_dict, shape_errors
from gateway.transport.graphiql import graphiql_response
from gateway.write import key_of, request_hash

GRAPHQL_RESPONSE = "application/graphql-response+json"
log = logging.getLogger("gateway.http")


@dataclass(frozen=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


class RequestError(Exception):
    """A request that is not a GraphQL request at all (bad JSON, no query)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _media_type(request: Request) -> str:
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in request.headers.get("accept", "") else "application/json"


def _reply(request: Request, body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    return JSONResponse(body, status_code=status, media_type=_media_type(request), headers=headers or None)


def _parse_variables(raw: Any) -> dict[str, Any] | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise RequestError("variables must be a JSON object") from None
    if not isinstance(raw, dict):
        raise RequestError("variables must be a JSON object")
    return raw


async def read_request(request: Request) -> GraphQLRequest:
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/json":
            raise RequestError("POST bodies must be application/json", status=415)
        try:
            params = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise RequestError("Request body is not valid JSON") from None
        if not isinstance(params, dict):
            raise RequestError("Request body must be a JSON object")
    query = params.get("query")
    if not isinstance(query, str) or not query.strip():
        raise RequestError("Missing 'query': send a GraphQL document")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("operationName must be a string")
    return GraphQLRequest(query, _parse_variables(params.get("variables")), operation_name or None)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and "text/html" in accept and "query" not in request.query_params


async def graphql_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if _wants_html(request):
        return graphiql_response()
    try:
        principal = await runtime.authenticator.authenticate(request.headers.get("authorization"))
    except GatewayError as error:
        body = {"errors": [error_dict(error.message, "UNAUTHENTICATED")]}
        return _reply(request, body, 401, **{"WWW-Authenticate": 'Bearer realm="gateway"'})
    try:
        gql = await read_request(request)
    except RequestError as error:
        return _reply(request, {"errors": [error_dict(error.message, "BAD_REQUEST")]}, error.status)

    purpose = _purpose(request)
    if purpose is None and principal.record.kind == "partner" and runtime.settings.require_purpose_for_partners:
        message = "Partner agencies must declare a purpose: send an X-Purpose header"
        return _reply(request, {"errors": [error_dict(message, "BAD_USER_INPUT", argument="X-Purpose")]}, 400)

    executor = runtime.executor_for(principal)
    prepared = executor.prepare(gql.query)
    if prepared.document is None:
        await _audit_refusal(runtime, principal, gql, purpose, prepared.errors)
        status = 400 if _media_type(request) == GRAPHQL_RESPONSE else 200
        return _reply(request, {"errors": list(prepared.errors)}, status)
    chosen = executor.operation(prepared.document, gql.operation_name)
    if chosen is None:
        return _reply(request, {"errors": [error_dict("Unknown or ambiguous operationName", "BAD_USER_INPUT")]})
    name = chosen.name.value if chosen.name else None
    operation = Operation(gql.query, name, OPERATION_TYPES[chosen.operation.value], purpose)
    if request.method == "GET" and operation.type != "query":
        return _reply(request, {"errors": [error_dict("Only queries may be sent with GET", "BAD_REQUEST")]}, 405)
    call = Call(runtime, principal, gql, operation, prepared)

    key = key_of(request.headers.get("idempotency-key"), gql.variables) if operation.type == "mutation" else None
    if key is not None:
        claim = await runtime.idempotency.claim(
            principal.id, key, request_hash(gql.query, gql.variables, gql.operation_name)
        )
        if claim.conflict is not None:
            return _reply(request, {"errors": [error_dict(claim.conflict, "CONFLICT", argument="Idempotency-Key")]})
        if claim.response is not None:
            # Handing the first response out again is a read like any other: it is audited.
            await call.audit({})
            return _reply(request, claim.response, 200, **{"Idempotent-Replayed": "true"})
    try:
        reply = await call.execute(executor)
    except AuditFailure:
        return _reply(request, {"errors": [error_dict("Could not record the audit trail", "INTERNAL")]}, 503)
    if key is not None:
        await runtime.idempotency.finish(principal.id, key, reply)
    return _reply(request, reply)


def _purpose(request: Request) -> str | None:
    # Header values are Latin-1 on the wire; a purpose in Chinese arrives percent-encoded UTF-8.
    return unquote(request.headers.get("x-purpose", "")).strip() or None


class AuditFailure(Exception):
    """The audit record could not be written: data that cannot be audited is not handed out."""


@dataclass(frozen=True)
class Call:
    """One prepared operation of one principal, run and audited."""

    runtime: Runtime
    principal: Principal
    request: GraphQLRequest
    operation: Operation
    prepared: Prepared

    async def execute(self, executor: Executor) -> dict[str, Any]:
        context = self.runtime.context_for(self.principal)
        touched = Touched()
        noted = current.set(touched)
        try:
            assert self.prepared.document is not None
            result = await executor.run(
                self.prepared.document, self.request.variables, self.request.operation_name, context
            )
        finally:
            current.reset(noted)
        policy = context.policy
        denied = (
            ()
            if policy is None or policy.enforce
            else log_only_denials(policy, self.prepared.selected, self.runtime.sensitive)
        )
        try:
            await self.audit(
                touched.rows,
                redacted=context.extensions.get("redacted", ()),
                denied=denied,
                outcome="error" if result.errors else "ok",
            )
        except Exception as error:
            log.exception("audit append failed; withholding the response")
            raise AuditFailure from error
        reply: dict[str, Any] = {}
        if result.errors:
            reply["errors"] = shape_errors(result)
        reply["data"] = result.data
        if context.extensions:
            reply["extensions"] = context.extensions
        return reply

    async def audit(self, rows: dict[str, set[int]], **details: Any) -> None:
        entry = audit_entry(
            self.principal,
            self.operation,
            self.runtime.policies.version,
            self.prepared.selected,
            self.runtime.sensitive,
            rows,
            **details,
        )
        if entry is not None:
            await self.runtime.audit.append(entry)


async def _audit_refusal(
    runtime: Runtime, principal: Principal, gql: GraphQLRequest, purpose: str | None, errors: tuple[dict[str, Any], ...]
) -> None:
    """A document that asks for fields hidden from the caller (valid in the full schema) is audited as denied."""
    if runtime.full_executor.prepare(gql.query).document is None:
        return
    denied = denied_from_errors([str(e["message"]) for e in errors])
    operation = Operation(gql.query, gql.operation_name, "query", purpose)
    entry = audit_entry(
        principal, operation, runtime.policies.version, (), runtime.sensitive, {}, denied=denied, outcome="denied"
    )
    if entry is not None:
        await runtime.audit.append(entry)
