"""The GraphQL schema: assembled from the registry, cut down per policy; node and the caller's own record."""

from __future__ import annotations

from gateway.policy import COMPUTED_FROM, READS, TESTS
from gateway.policy.ordering import newest_key, sort_key
from gateway.schema.assembly import build_schema, build_subgraph, export_sdl, subgraph_sdl_of
from gateway.schema.node import Node, from_row, node_fetcher
from gateway.schema.per_policy import COUNTS, REQUIRES, SHOWN_WHEN, visible_fields

__all__ = [
    "COMPUTED_FROM",
    "COUNTS",
    "READS",
    "REQUIRES",
    "SHOWN_WHEN",
    "TESTS",
    "Node",
    "build_schema",
    "build_subgraph",
    "export_sdl",
    "from_row",
    "newest_key",
    "node_fetcher",
    "sort_key",
    "subgraph_sdl_of",
    "visible_fields",
]
