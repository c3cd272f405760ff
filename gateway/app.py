"""The ASGI application."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from gateway.kernel import Registry, Settings, get_settings, load_registry
from gateway.ops import Tracing
from gateway.pipeline import PolicyWatcher, Runtime
from gateway.transport import (
    CORS_HEADERS,
    AccessLog,
    Deliverer,
    LastResort,
    SecurityHeaders,
    demo_routes,
    graphiql_routes,
    graphql_endpoint,
    keep_query_strings_out_of_server_logs,
    metrics_endpoint,
    metrics_registry,
    page_routes,
    readyz,
    serve_metrics,
    sse_endpoint,
    websocket_endpoint,
)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def index(request: Request) -> Response:
    return RedirectResponse("/graphiql")


async def http_error(request: Request, error: Exception) -> Response:
    """Starlette's own refusals (404, 405 with its Allow header …) as GraphQL error bodies."""
    assert isinstance(error, HTTPException)
    body = {"errors": [{"message": error.detail, "extensions": {"code": "BAD_REQUEST"}}]}
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


def create_app(
    settings: Settings | None = None, registry: Registry | None = None, tracing: Tracing | None = None
) -> Starlette:
    runtime = Runtime(settings or get_settings(), registry or load_registry())
    # Traces only when an OTLP endpoint is configured (or a tracer is handed in, as tests do).
    tracing = tracing or Tracing.configured(runtime.settings)
    runtime.trace_with(tracing)
    metrics = metrics_registry(runtime)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Policies reload on SIGHUP or a file change; an invalid file leaves the old ones in force.
        watcher = PolicyWatcher(runtime, Path(runtime.settings.policy_dir))
        watcher.start()
        await runtime.start()
        if runtime.settings.gc_freeze:
            gc.collect()
            gc.freeze()
        # Webhooks are delivered from every serving process; a lease on each webhook's row keeps
        # two workers from delivering the same event.
        deliverer = Deliverer(runtime)
        deliverer.start()
        # /metrics on a bind of its own when GATEWAY_METRICS_PORT is set (no token there: bind it privately).
        stop_metrics = serve_metrics(runtime.settings, metrics)
        try:
            yield
        finally:
            stop_metrics()
            await deliverer.stop()
            await watcher.stop()
            await runtime.close()

    settings = runtime.settings
    routes: list[BaseRoute] = [
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"] if settings.get_allowed else ["POST"]),
        WebSocketRoute("/graphql", websocket_endpoint),
        Route("/graphql/stream", sse_endpoint, methods=["GET", "POST", "PUT", "DELETE"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics_endpoint),
        *page_routes(),
        *demo_routes(runtime.settings),
    ]
    if settings.graphiql_enabled:
        routes += [Route("/", index), *graphiql_routes()]
    # The gateway writes its own access lines, free of personal data (uvicorn's are off).
    keep_query_strings_out_of_server_logs()
    middleware = [
        Middleware(AccessLog),
        Middleware(SecurityHeaders),
        Middleware(
            CORSMiddleware,
            allow_origins=list(settings.allowed_origins),
            # PUT and DELETE: graphql-sse's single connection mode (reserve a stream, stop an operation).
            allow_methods=(["GET", "POST"] if settings.get_allowed else ["POST"]) + ["PUT", "DELETE"],
            allow_headers=list(CORS_HEADERS),
            expose_headers=["Retry-After", "Idempotent-Replayed", "X-Request-Id"],
            max_age=600,
        ),
        Middleware(LastResort, retry_after=settings.retry_after_seconds),
        *(tracing.middleware() if tracing is not None else ()),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers={HTTPException: http_error}
    )
    app.state.runtime = runtime
    app.state.metrics = metrics
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory gateway.app:app_from_env``."""
    return create_app()
