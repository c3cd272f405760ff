"""The ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route, WebSocketRoute

from gateway.kernel import Registry, Settings, get_settings, load_registry
from gateway.pipeline import PolicyWatcher, Runtime
from gateway.transport import (
    AccessLog,
    demo_routes,
    graphiql_routes,
    graphql_endpoint,
    keep_query_strings_out_of_server_logs,
    page_routes,
    websocket_endpoint,
)


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def index(request: Request) -> Response:
    return RedirectResponse("/graphiql")


def create_app(settings: Settings | None = None, registry: Registry | None = None) -> Starlette:
    runtime = Runtime(settings or get_settings(), registry or load_registry())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Policies reload on SIGHUP or a file change; an invalid file leaves the old ones in force.
        watcher = PolicyWatcher(runtime, Path(runtime.settings.policy_dir))
        watcher.start()
        await runtime.start()
        try:
            yield
        finally:
            await watcher.stop()
            await runtime.close()

    routes = [
        Route("/graphql", graphql_endpoint, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", websocket_endpoint),
        Route("/healthz", healthz),
        Route("/", index),
        *graphiql_routes(),
        *page_routes(),
        *demo_routes(runtime.settings),
    ]
    # The gateway writes its own access lines, free of personal data (uvicorn's are off).
    keep_query_strings_out_of_server_logs()
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(AccessLog)])
    app.state.runtime = runtime
    return app


def app_from_env() -> Starlette:
    """Factory for ``uvicorn --factory gateway.app:app_from_env``."""
    return create_app()
