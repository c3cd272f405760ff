"""The change feed: outboxes written with each change, tailed by every worker, served as subscriptions."""

from __future__ import annotations

from gateway.feed.guarded import EventSource, GuardedFeed
from gateway.feed.outbox import emit, outbox_model
from gateway.feed.subscriptions import AfterEvent, watch
from gateway.feed.tail import Event, Feed

__all__ = ["AfterEvent", "Event", "EventSource", "Feed", "GuardedFeed", "emit", "outbox_model", "watch"]
