"""How operations arrive: GraphQL over HTTP, graphql-transport-ws, the GraphiQL page."""

from __future__ import annotations

from gateway.transport.access import AccessLog, keep_query_strings_out_of_server_logs
from gateway.transport.demo import demo_routes
from gateway.transport.graphiql import ASSET_DIR, ASSET_FILES, assets_installed, graphiql_page_html, graphiql_routes
from gateway.transport.guard import CORS_HEADERS, LastResort, SecurityHeaders
from gateway.transport.http import graphql_endpoint
from gateway.transport.ops import metrics_endpoint, metrics_registry, readyz, serve_metrics
from gateway.transport.pages import page_routes
from gateway.transport.websocket import websocket_endpoint

__all__ = [
    "ASSET_DIR",
    "ASSET_FILES",
    "CORS_HEADERS",
    "AccessLog",
    "LastResort",
    "SecurityHeaders",
    "assets_installed",
    "demo_routes",
    "graphiql_page_html",
    "graphiql_routes",
    "graphql_endpoint",
    "keep_query_strings_out_of_server_logs",
    "metrics_endpoint",
    "metrics_registry",
    "page_routes",
    "readyz",
    "serve_metrics",
    "websocket_endpoint",
]
