"""The change feed: outboxes written with each change, tailed by every worker, served as subscriptions."""

from __future__ import annotations

from gateway.data import emit, outbox_model
from gateway.feed.guarded import EventSource, GuardedFeed
from gateway.feed.subscriptions import AfterEvent, watch
from gateway.feed.tail import Event, Feed
from gateway.feed.webhooks import NewWebhook, Topic, Webhook, WebhookFailure, WebhookStore, feeds_of, positions_of
from gateway.feed.webhooks import sealing_key as webhook_key

__all__ = [
    "AfterEvent",
    "Event",
    "EventSource",
    "Feed",
    "GuardedFeed",
    "NewWebhook",
    "Topic",
    "Webhook",
    "WebhookFailure",
    "WebhookStore",
    "emit",
    "feeds_of",
    "outbox_model",
    "positions_of",
    "watch",
    "webhook_key",
]
