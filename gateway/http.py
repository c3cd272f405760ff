"""The ``/graphql`` endpoint: GraphQL over HTTP (POST JSON, GET for queries), bearer auth first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.errors import GatewayError
from gateway.execution import error_dict, shape_errors
from gateway.graphiql import graphiql_response
from gateway.runtime import Runtime

GRAPHQL_RESPONSE = "application/graphql-response+json"


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

    executor = runtime.executor_for(principal)
    prepared = executor.prepare(gql.query)
    if prepared.document is None:
        status = 400 if _media_type(request) == GRAPHQL_RESPONSE else 200
        return _reply(request, {"errors": list(prepared.errors)}, status)
    operation = executor.operation_type(prepared.document, gql.operation_name)
    if operation is None:
        return _reply(request, {"errors": [error_dict("Unknown or ambiguous operationName", "BAD_USER_INPUT")]})
    if request.method == "GET" and operation != "query":
        return _reply(request, {"errors": [error_dict("Only queries may be sent with GET", "BAD_REQUEST")]}, 405)

    context = runtime.context_for(principal)
    result = await executor.run(prepared.document, gql.variables, gql.operation_name, context)
    reply: dict[str, Any] = {}
    if result.errors:
        reply["errors"] = shape_errors(result)
    reply["data"] = result.data
    if context.extensions:
        reply["extensions"] = context.extensions
    return _reply(request, reply)
