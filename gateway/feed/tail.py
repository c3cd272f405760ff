"""The change feed: events read from the domains' outboxes and handed to subscribers.

Every worker tails every outbox itself, so an event committed by any worker reaches the
subscribers of every worker, and nothing is lost when a process dies between commit and
publish. After a commit the writer wakes the feed: in-process by default, through a Redis
channel when ``GATEWAY_REDIS_URL`` is set, so other workers wake at once instead of at
their next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, bindparam, func, select

from gateway.data import Databases
from gateway.kernel import BadUserInput, cancel_all

log = logging.getLogger("gateway.feed")
CHANNEL = "gateway:outbox"
# The least time between two reads of one outbox (seconds): what a live event may wait at most for it.
READ_GAP = 0.05


@dataclass(frozen=True)
class Event:
    domain: str
    id: int
    topic: str
    type_name: str
    row_id: int
    grid_id: int | None
    kind: str
    created_at: datetime | None = None

    @property
    def event_id(self) -> str:
        return f"{self.domain}:{self.id}"


def parse_event_id(text: str, domain: str) -> int:
    """``dispute:42`` → 42, for resuming after the last event a client saw."""
    name, _, number = text.partition(":")
    # At most 18 digits: an event id is a 64-bit integer in every database.
    if name != domain or not number.isascii() or not number.isdigit() or len(number) > 18:
        raise BadUserInput(f"afterEvent must look like {domain}:<number>", argument="afterEvent")
    return int(number)


def _event(domain: str, row: Any) -> Event:
    return Event(domain, row.id, row.topic, row.type_name, row.row_id, row.grid_id, row.kind, row.created_at)


_FIELDS = ("id", "topic", "type_name", "row_id", "grid_id", "kind", "created_at")


def _after(outbox: Any, of_topic: bool) -> Any:
    """The next events of an outbox after a given id (of one topic, or of all)."""
    stmt = select(*(outbox.__table__.c[name] for name in _FIELDS)).where(outbox.id > bindparam("after", None, Integer))
    if of_topic:
        stmt = stmt.where(outbox.topic == bindparam("topic", None, String))
    return stmt.order_by(outbox.id).limit(500)


class Feed:
    def __init__(
        self, databases: Databases, outboxes: Mapping[str, Any], poll_seconds: float, redis_url: str | None
    ) -> None:
        self._databases = databases
        self._outboxes = dict(outboxes)
        self._poll_seconds = poll_seconds
        self._redis_url = redis_url
        self._queues: dict[tuple[str, str], set[asyncio.Queue[Event]]] = {}
        self._wakes = {domain: asyncio.Event() for domain in self._outboxes}
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Any = None
        self._started = False
        # When each outbox was last read through (monotonic seconds): its lag for /metrics and /readyz.
        self.last_read: dict[str, float] = {}
        # Set whenever a tail reads new events: the webhook worker wakes on it rather than on its poll.
        self.activity = asyncio.Event()

    def lag(self) -> dict[str, float]:
        """Seconds since each outbox was last read through; absent while the feed is stopped."""
        now = time.monotonic()
        return {domain: now - at for domain, at in self.last_read.items()} if self.running else {}

    @property
    def running(self) -> bool:
        return self._started and all(not task.done() for task in self._tasks)

    async def start(self) -> None:
        if self._started:
            return
        self._started = True
        for domain in self._outboxes:
            last = await self._last_id(domain)
            self.last_read[domain] = time.monotonic()
            self._tasks.append(asyncio.create_task(self._tail(domain, last)))
        if self._redis_url:
            import redis.asyncio as redis

            self._redis = redis.from_url(self._redis_url)
            self._tasks.append(asyncio.create_task(self._listen()))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks.clear()
        self.last_read.clear()
        if self._redis is not None:
            await self._redis.aclose()
        self._started = False

    async def committed(self, domain: str | None = None) -> None:
        """Called after a transaction that wrote events of ``domain`` (None: any): wake that
        domain's tail on this worker, and on the others."""
        self._wake(domain)
        if self._redis is not None:
            try:
                await self._redis.publish(CHANNEL, domain or "*")
            except Exception:
                log.warning("could not publish a wake-up on Redis; other workers poll", exc_info=True)

    async def events(self, domain: str, topic: str, after: int | None = None) -> AsyncIterator[Event]:
        """Events of one topic: first those after ``after`` (a resume), then live ones, in order."""
        async for batch in self.batches(domain, topic, after):
            for event in batch:
                yield event

    async def batches(self, domain: str, topic: str, after: int | None = None) -> AsyncGenerator[list[Event], None]:
        """The events of :meth:`events`, each time all of those that have come in since the last batch
        was taken (at least one): a consumer slower than the writers takes a backlog at once."""
        await self.start()
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._queues.setdefault((domain, topic), set()).add(queue)
        try:
            last = after if after is not None else await self._last_id(domain)
            if after is not None:
                while batch := await self._read(domain, last, topic):
                    last = batch[-1].id
                    yield batch
            while True:
                taken = [await queue.get()]
                while not queue.empty():
                    taken.append(queue.get_nowait())
                fresh = [event for event in taken if event.id > last]
                if fresh:
                    last = fresh[-1].id
                    yield fresh
        finally:
            self._queues.get((domain, topic), set()).discard(queue)

    @property
    def domains(self) -> tuple[str, ...]:
        return tuple(self._outboxes)

    async def next_event(self, domain: str, after: int, topics: set[str]) -> Event | None:
        """The first event of ``domain`` after ``after`` on one of ``topics``, read from the outbox."""
        outbox = self._outboxes[domain]
        stmt = select(outbox).where(outbox.id > after, outbox.topic.in_(sorted(topics))).order_by(outbox.id).limit(1)
        async with self._databases.session(domain) as session:
            row = (await session.scalars(stmt)).first()
        return None if row is None else _event(domain, row)

    async def newest(self, domain: str) -> int:
        """The ID of the last event in ``domain``'s outbox (0 when empty)."""
        return await self._last_id(domain)

    async def _last_id(self, domain: str) -> int:
        outbox = self._outboxes[domain]
        async with self._databases.session(domain) as session:
            return int((await session.execute(select(func.coalesce(func.max(outbox.id), 0)))).scalar_one())

    async def _read(self, domain: str, after: int, topic: str | None = None) -> list[Event]:
        # Kept compiled: every tail reads after every commit that wakes it.
        read = self._databases.kept(domain, _after, self._outboxes[domain], topic is not None)
        rows = await self._databases.rows(
            domain, read.bound(after=after, **({} if topic is None else {"topic": topic}))
        )
        return [Event(domain, **{name: row[name] for name in _FIELDS}) for row in rows]

    async def _tail(self, domain: str, last: int) -> None:
        read_at = 0.0
        while True:
            try:
                wake = self._wakes[domain]
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self._poll_seconds)
                # Under a stream of commits one read takes the events of several, not one read each.
                await asyncio.sleep(max(0.0, READ_GAP - (time.monotonic() - read_at)))
                read_at = time.monotonic()
                wake.clear()
                while batch := await self._read(domain, last):
                    for event in batch:
                        last = event.id
                        for queue in list(self._queues.get((domain, event.topic), ())):
                            queue.put_nowait(event)
                    self.activity.set()
                self.last_read[domain] = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("reading the %s outbox failed; retrying", domain, exc_info=True)
                await asyncio.sleep(self._poll_seconds)

    async def _listen(self) -> None:
        pubsub = self._redis.pubsub()
        await pubsub.subscribe(CHANNEL)
        async for message in pubsub.listen():
            if message.get("type") == "message":
                data = message.get("data")
                name = data.decode() if isinstance(data, bytes) else str(data)
                self._wake(name if name in self._wakes else None)

    def _wake(self, domain: str | None) -> None:
        """Wake one domain's tail; all of them when the domain is not named (or not known here)."""
        wake = self._wakes.get(domain) if domain is not None else None
        for each in [wake] if wake is not None else self._wakes.values():
            each.set()
