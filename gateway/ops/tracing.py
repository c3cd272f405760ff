"""OpenTelemetry traces of HTTP requests, GraphQL operations and SQL statements, when configured.

Only with ``GATEWAY_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_ENDPOINT``) set: then spans go in
batches to that OTLP/HTTP collector. The official instrumentations make the spans: the ASGI
middleware one per HTTP request (its query string hidden from it: a ``GET /graphql?query=…`` may
carry an ID number), SQLAlchemy's one per statement (parameters are never recorded), and the
pipeline one per operation (its name, type and document hash — never its text or variables).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.kernel import Settings

SERVICE = "grassroots-gateway"
_HIDDEN = "gateway.query_string"
_NO_TRACER = trace.NoOpTracer()


def tracer(tracing: Tracing | None) -> trace.Tracer:
    return _NO_TRACER if tracing is None else tracing.provider.get_tracer("gateway")


class _HideQueryString:
    """Outside the tracing middleware: the query string is put aside where it cannot read it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope, **{_HIDDEN: scope.get("query_string", b""), "query_string": b""})
        await self.app(scope, receive, send)


class _RestoreQueryString:
    """Inside it: the gateway gets its query string back."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if _HIDDEN in scope:
            scope = dict(scope, query_string=scope[_HIDDEN])
        await self.app(scope, receive, send)


class Tracing:
    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._sql: Any = None

    @classmethod
    def configured(cls, settings: Settings) -> Tracing | None:
        endpoint = settings.otlp_endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if not endpoint:
            return None
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
        traces = endpoint if endpoint.rstrip("/").endswith("/v1/traces") else endpoint.rstrip("/") + "/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=traces)))
        return cls(provider)

    def middleware(self) -> list[Middleware]:
        """The ASGI middleware, outermost first: one server span per HTTP request or WebSocket."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        return [
            Middleware(_HideQueryString),
            # No span per ASGI message: a live subscription would make one per event sent.
            Middleware(OpenTelemetryMiddleware, tracer_provider=self.provider, exclude_spans=["receive", "send"]),
            Middleware(_RestoreQueryString),
        ]

    def instrument(self, engines: Sequence[AsyncEngine]) -> None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        self._sql = SQLAlchemyInstrumentor()
        # The instrumentation declares SQLAlchemy < 2.1; the engine events it listens to are unchanged in 2.1.
        self._sql.instrument(
            engines=[e.sync_engine for e in engines], tracer_provider=self.provider, skip_dep_check=True
        )

    def close(self) -> None:
        if self._sql is not None:
            self._sql.uninstrument()
            self._sql = None
        self.provider.force_flush()
