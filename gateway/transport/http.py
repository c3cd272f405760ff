"""The ``/graphql`` endpoint: GraphQL over HTTP (POST JSON, GET for queries), bearer auth first.

Bodies are bounded (size, JSON depth) before they are parsed; one JSON object per request — an
array of operations (batching) is refused. An operation that runs out of time, or finds no free
database connection, is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from gateway.audit import operation_hash
from gateway.data import PoolExhausted
from gateway.kernel import Settings
from gateway.pipeline import (
    BUSY,
    AuditFailure,
    Call,
    GraphQLRequest,
    Overloaded,
    Refused,
    Runtime,
    authenticate,
    declared_purpose,
    document_reference,
    error_dict,
    header_value,
    prepare,
)
from gateway.transport.access import note
from gateway.transport.body import BodyError, Disconnected, bounded_body, bounded_json
from gateway.transport.graphiql import graphiql_response
from gateway.write import MOVED_ON, claimant_of, key_of, reading_scope, request_hash

GRAPHQL_RESPONSE = "application/graphql-response+json"
log = logging.getLogger("gateway.http")


class RequestError(Exception):
    """A request that is not a GraphQL request at all (bad JSON, no query)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message, self.status = message, status


def _media_type(request: Request) -> str:
    return GRAPHQL_RESPONSE if GRAPHQL_RESPONSE in request.headers.get("accept", "") else "application/json"


def _reply(request: Request, body: dict[str, Any], status: int = 200, **headers: str) -> Response:
    # orjson: the same compact UTF-8 text as Starlette's JSONResponse, several times faster on a large page.
    return Response(orjson.dumps(body), status_code=status, media_type=_media_type(request), headers=headers or None)


BATCH = "Batched requests (a JSON array of operations) are not supported: send one operation per request"


def _parse_variables(raw: Any, max_depth: int) -> dict[str, Any] | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, str):
        try:
            raw = bounded_json(raw, max_depth, "variables")
        except BodyError as error:
            raise RequestError(
                error.message if "deeper" in error.message else "variables must be a JSON object"
            ) from None
    if not isinstance(raw, dict):
        raise RequestError("variables must be a JSON object")
    return raw


async def read_request(request: Request, settings: Settings) -> GraphQLRequest:
    return request_of(await read_params(request, settings), settings)


async def read_params(request: Request, settings: Settings) -> dict[str, Any]:
    """The request's parameters: the query string of a GET, the bounded JSON object of a POST."""
    if request.method == "GET":
        params: dict[str, Any] = dict(request.query_params)
    else:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type != "application/json":
            raise RequestError("POST bodies must be application/json", status=415)
        try:
            params = bounded_json(await bounded_body(request, settings.max_body_bytes), settings.max_json_depth)
        except BodyError as error:
            raise RequestError(error.message, error.status) from None
        if isinstance(params, list):
            raise RequestError(BATCH)
        if not isinstance(params, dict):
            raise RequestError("Request body must be a JSON object")
    return params


def request_of(params: dict[str, Any], settings: Settings) -> GraphQLRequest:
    try:
        # A document by hash: trusted documents (documentId) or APQ (extensions.persistedQuery).
        document_id, automatic = document_reference(params.get("documentId"), params.get("extensions"))
    except ValueError as error:
        raise RequestError(str(error)) from None
    query = params.get("query")
    if query is None and document_id is not None:
        query = ""
    elif not isinstance(query, str) or not query.strip():
        raise RequestError("Missing 'query': send a GraphQL document")
    operation_name = params.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        raise RequestError("operationName must be a string")
    variables = _parse_variables(params.get("variables"), settings.max_json_depth)
    return GraphQLRequest(query, variables, operation_name or None, document_id, automatic)


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return request.method == "GET" and "text/html" in accept and "query" not in request.query_params


async def graphql_endpoint(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    if request.method == "GET" and not settings.get_allowed:
        message = "Send operations with POST (application/json): GET is turned off here"
        return _reply(request, {"errors": [error_dict(message, "BAD_REQUEST")]}, 405, Allow="POST")
    if _wants_html(request) and settings.graphiql_enabled:
        return graphiql_response()
    try:
        # Control characters in a header are refused before anything runs (see header_value).
        purpose = declared_purpose(request.headers.get("x-purpose"))
        authorization = header_value("Authorization", request.headers.get("authorization"))
        header_value("Idempotency-Key", request.headers.get("idempotency-key"))
        principal = await authenticate(runtime, authorization, purpose)
        note(request, principal=principal.id)
        gql = await read_request(request, settings)
        # A document sent by id is noted by its own hash once it is found, never by the id as sent
        # (any 64 hex digits: a phone or ID number could be typed into it).
        note(request, hash=operation_hash(gql.query) if gql.query else None, role=principal.role)
        call = await prepare(runtime, principal, gql, purpose)
        note(
            request,
            hash=operation_hash(call.request.query),
            operation=call.operation.name,
            document=call.document.client if call.document else None,
        )
        if request.method == "GET" and call.type != "query":
            raise Refused.one("transport", "Only queries may be sent with GET", "BAD_REQUEST")
        return await _run(request, call)
    except Refused as refused:
        note(request, outcome=refused.reason)
        return _refusal(request, refused)
    except RequestError as error:
        return _reply(request, {"errors": [error_dict(error.message, "BAD_REQUEST")]}, error.status)
    except AuditFailure:
        return _audit_failed(request)
    except Overloaded as overloaded:
        return unavailable(request, overloaded.message, overloaded.code)
    except PoolExhausted:
        return unavailable(request, BUSY, "UNAVAILABLE")
    except Disconnected:
        # Nobody is left to read an answer; the access log still notes the request.
        return Response(status_code=499)


def unavailable(request: Request, message: str, code: str) -> Response:
    """503 with Retry-After and a GraphQL error body: overloaded or out of time, try again later."""
    retry = str(request.app.state.runtime.settings.retry_after_seconds)
    return _reply(request, {"errors": [error_dict(message, code)]}, 503, **{"Retry-After": retry})


def _audit_failed(request: Request) -> Response:
    body = {"errors": [error_dict("Could not record the audit trail", "INTERNAL")]}
    return _reply(request, body, 503, **{"Retry-After": str(request.app.state.runtime.settings.retry_after_seconds)})


def _refusal(request: Request, refused: Refused) -> Response:
    body = {"errors": refused.errors}
    if refused.reason == "unauthenticated":
        return _reply(request, body, 401, **{"WWW-Authenticate": 'Bearer realm="gateway"'})
    if refused.reason in ("purpose", "header"):
        return _reply(request, body, 400)
    if refused.reason == "transport":
        return _reply(request, body, 405, Allow="POST")
    if refused.reason == "limited":
        return _reply(request, body, 429, **{"Retry-After": str(refused.retry_after or 60)})
    if refused.reason == "document":
        # PERSISTED_QUERY_NOT_FOUND / _NOT_SUPPORTED answer 200, as APQ clients expect; a refusal is a 400.
        code = refused.errors[0]["extensions"]["code"]
        return _reply(request, body, 200 if code.startswith("PERSISTED_QUERY") else 400)
    if refused.reason == "invalid":
        # GraphQL over HTTP: a document that does not validate is a 400 for the new media type only.
        return _reply(request, body, 400 if _media_type(request) == GRAPHQL_RESPONSE else 200)
    return _reply(request, body)


async def _run(request: Request, call: Call) -> Response:
    runtime, gql = call.runtime, call.request
    key = key_of(request.headers.get("idempotency-key"), gql.variables) if call.type == "mutation" else None
    claimant = scope = ""
    if key is not None:
        # A stored answer is handed back only to the token that wrote it: another token of the same
        # principal (a partner's narrower one, say) must not read through a replay what it cannot query.
        claimant = claimant_of(call.principal.id, call.principal.token_id)
        scope = reading_scope(call.principal, runtime.policies.version)
        claim = await runtime.idempotency.claim(
            claimant, key, request_hash(gql.query, gql.variables, gql.operation_name), scope
        )
        if claim.conflict is not None:
            return _reply(request, {"errors": [error_dict(claim.conflict, "CONFLICT", argument="Idempotency-Key")]})
        if claim.response is not None:
            # Handing the first response out again is a read like any other: checked against
            # what the caller may read now, and audited with the rows it names.
            rows = await call.still_readable(claim.response)
            if rows is None:
                return _reply(request, {"errors": [error_dict(MOVED_ON, "CONFLICT", argument="Idempotency-Key")]})
            await call.record(rows)
            return _reply(request, claim.response, 200, **{"Idempotent-Replayed": "true"})
    try:
        reply = await call.execute()
    except BaseException as error:
        if key is not None:
            await runtime.idempotency.release(claimant, key)
        if isinstance(error, AuditFailure):
            return _audit_failed(request)
        raise
    if key is not None:
        if _wrote_nothing(reply):
            # Every root field failed, so nothing was written: the key stays free for a retry.
            await runtime.idempotency.release(claimant, key)
        else:
            await runtime.idempotency.finish(claimant, key, reply, scope)
    note(request, outcome="error" if reply.get("errors") else "ok")
    return _reply(request, reply)


def _wrote_nothing(reply: dict[str, Any]) -> bool:
    data = reply.get("data")
    return bool(reply.get("errors")) and (not data or all(value is None for value in data.values()))
