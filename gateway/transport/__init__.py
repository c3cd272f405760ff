"""How operations arrive and leave: GraphQL over HTTP, graphql-transport-ws, graphql-sse, webhooks, GraphiQL."""

from __future__ import annotations

from gateway.transport.access import AccessLog, keep_query_strings_out_of_server_logs
from gateway.transport.demo import demo_routes
from gateway.transport.graphiql import ASSET_DIR, ASSET_FILES, assets_installed, graphiql_page_html, graphiql_routes
from gateway.transport.guard import CORS_HEADERS, LastResort, SecurityHeaders
from gateway.transport.http import graphql_endpoint
from gateway.transport.ops import metrics_endpoint, metrics_registry, readyz, serve_metrics
from gateway.transport.pages import page_routes
from gateway.transport.sse import sse_endpoint
from gateway.transport.webhooks import Deliverer
from gateway.transport.websocket import websocket_endpoint

__all__ = [
    "ASSET_DIR",
    "ASSET_FILES",
    "CORS_HEADERS",
    "AccessLog",
    "Deliverer",
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
    "sse_endpoint",
    "websocket_endpoint",
]
