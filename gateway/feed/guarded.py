"""The feed as one live session sees it: every event waits for the session to be re-authorised.

A subscription reads events only through its context's feed, so putting the check here covers
every subscription resolver, including ones written later, without each remembering to ask.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol

from gateway.feed.tail import Event


class EventSource(Protocol):
    """What a request sees of the feed: events to read, and a wake-up to send after a write."""

    def events(self, domain: str, topic: str, after: int | None = None) -> AsyncIterator[Event]: ...

    async def committed(self, domain: str | None = None) -> None: ...


class GuardedFeed:
    def __init__(self, feed: EventSource, guard: Callable[[], Awaitable[None]]) -> None:
        self._feed, self._guard = feed, guard

    async def committed(self, domain: str | None = None) -> None:
        await self._feed.committed(domain)

    async def events(self, domain: str, topic: str, after: int | None = None) -> AsyncIterator[Event]:
        async for event in self._feed.events(domain, topic, after):
            # Raises when the session may no longer read: the event is never handed to the resolver.
            await self._guard()
            yield event
