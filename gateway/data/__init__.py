"""Reads as a principal: databases, scoped statements, pagination, loaders, statistics, filters, migrations."""

from __future__ import annotations

from gateway.data.base import GatewayBase
from gateway.data.counts import city_count, counting_paused, counting_restored, counts_of, row_counts_model
from gateway.data.databases import Databases, PoolExhausted, create_engine
from gateway.data.driver import DEAD_CONNECTION, KEYS, Ready, among, counted, statement_log
from gateway.data.filters import DateRange, contains, search_text, within
from gateway.data.ids import decode_id, decode_pk, encode_id
from gateway.data.loaders import load_each, load_many, load_one
from gateway.data.order import (
    COMMIT_ORDER_KEY,
    commit_order_held,
    commit_order_lock,
    commit_order_ride,
    commit_order_taken,
    commit_order_taker,
)
from gateway.data.outbox import emit, event_row, outbox_insert, outbox_model, outbox_values
from gateway.data.pagination import (
    After,
    Before,
    Connection,
    Edge,
    First,
    Last,
    OrderArg,
    Ordering,
    PageArgs,
    PageInfo,
    SortDirection,
    build_connection,
    nested_page,
    root_page,
)
from gateway.data.reads import ColumnLike, count, counting, domain_of, execute, fetch_rows, scoped
from gateway.data.stats import Bucket, Dimension, grouped, shown_total, total

__all__ = [
    "COMMIT_ORDER_KEY",
    "DEAD_CONNECTION",
    "KEYS",
    "After",
    "Before",
    "Bucket",
    "ColumnLike",
    "Connection",
    "Databases",
    "DateRange",
    "Dimension",
    "Edge",
    "First",
    "GatewayBase",
    "Last",
    "OrderArg",
    "Ordering",
    "PageArgs",
    "PageInfo",
    "PoolExhausted",
    "Ready",
    "SortDirection",
    "among",
    "build_connection",
    "city_count",
    "commit_order_held",
    "commit_order_lock",
    "commit_order_ride",
    "commit_order_taken",
    "commit_order_taker",
    "contains",
    "count",
    "counted",
    "counting",
    "counting_paused",
    "counting_restored",
    "counts_of",
    "create_engine",
    "decode_id",
    "decode_pk",
    "domain_of",
    "emit",
    "encode_id",
    "event_row",
    "execute",
    "fetch_rows",
    "grouped",
    "load_each",
    "load_many",
    "load_one",
    "nested_page",
    "outbox_insert",
    "outbox_model",
    "outbox_values",
    "root_page",
    "row_counts_model",
    "scoped",
    "search_text",
    "shown_total",
    "statement_log",
    "total",
    "within",
]
