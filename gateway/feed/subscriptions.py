"""Subscriptions over the change feed: each event's row is read as the subscriber, through its
own row scope and masks, exactly as a query would read it; a row it may not see is skipped."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, TypeVar

import strawberry

from gateway.data import load_one
from gateway.feed.tail import Event, parse_event_id
from gateway.kernel import Context

T = TypeVar("T")

# The argument every subscription takes to resume after the last event a client saw.
AfterEvent = Annotated[
    str | None, strawberry.argument(description="从此事件之后(补发错过的) / resume after this event ID")
]


async def watch(
    ctx: Context,
    domain: str,
    topic: str,
    model: type[Any],
    convert: Callable[[Any], T],
    after_event: str | None = None,
    grid_ids: set[int] | None = None,
    type_name: str | None = None,
) -> AsyncIterator[tuple[Event, T]]:
    """The rows behind ``topic``'s events that the subscriber may see, optionally only in ``grid_ids``.

    Only events about ``type_name`` rows (the table's class name by default) are read.
    """
    wanted = type_name or model.__name__
    if ctx.feed is None:
        return
    after = None if after_event is None else parse_event_id(after_event, domain)
    async for event in ctx.feed.events(domain, topic, after):
        if event.type_name != wanted or (grid_ids is not None and event.grid_id not in grid_ids):
            continue
        # Each event is read afresh: nothing cached from an earlier one.
        ctx.loaders.clear()
        row = await load_one(ctx, model, event.row_id)
        if row is not None:
            yield event, convert(row)
