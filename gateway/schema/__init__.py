"""The GraphQL schema: assembled from the registry, cut down per policy; node and the caller's own record."""

from __future__ import annotations

from gateway.schema.assembly import build_schema, export_sdl
from gateway.schema.node import Node, from_row, node_fetcher
from gateway.schema.per_policy import COUNTS, REQUIRES, SHOWN_WHEN, visible_fields

__all__ = [
    "COUNTS",
    "REQUIRES",
    "SHOWN_WHEN",
    "Node",
    "build_schema",
    "export_sdl",
    "from_row",
    "node_fetcher",
    "visible_fields",
]
