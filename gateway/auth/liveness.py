"""Which tokens are live, held in memory: a request reads the token table only for a token this
worker has not seen live, and any revocation, in any process, empties what is held.

A revocation counts itself in ``gateway_revocation`` in its own transaction. Each worker reads that
count on a short beat (``GATEWAY_REVOCATION_POLL_SECONDS``) and at once when woken: in-process by
the revoking call, and through Redis (when configured) by a revocation in another process, such as
``gateway token revoke``. Until the watcher has read the count, or when it has not managed to for
a while (four beats, at least two seconds: a busy event loop delays a beat without anything being
wrong), nothing is held and every request asks the database, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from gateway.auth.tables import RevocationCount
from gateway.data import Databases
from gateway.kernel import Kept, cancel_all

log = logging.getLogger("gateway.auth")
CHANNEL = "gateway:revocations"
REVOCATIONS_ID = 1


class LiveTokens:
    def __init__(
        self, databases: Databases, domain: str, poll_seconds: float, redis_url: str | None, size: int = 4096
    ) -> None:
        self._databases = databases
        self._domain = domain
        self._poll_seconds = poll_seconds
        self._redis_url = redis_url
        self._held: Kept[str, datetime] = Kept(size)
        # Bumped whenever what is held is dropped: a read that began before a drop must not re-fill it.
        self.generation = 0
        self._count: int | None = None
        self._read_at = -1.0
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._redis: Any = None

    def holds(self, token_id: str) -> bool:
        """Whether ``token_id`` is known live, unexpired, and the watcher is keeping up."""
        expires = self._held.get(token_id)
        if expires is None or not self.watching:
            return False
        if expires <= datetime.now(UTC):
            self._held.drop(token_id)
            return False
        return True

    def hold(self, token_id: str, expires_at: datetime, generation: int) -> None:
        """Remember ``token_id`` as live, unless a revocation was seen since ``generation`` was read."""
        if generation != self.generation or not self.watching:
            return
        self._held.put(token_id, expires_at if expires_at.tzinfo else expires_at.replace(tzinfo=UTC))

    @property
    def watching(self) -> bool:
        return self._count is not None and time.monotonic() - self._read_at < max(2.0, 4 * self._poll_seconds)

    def drop(self) -> None:
        self._held.clear()
        self.generation += 1

    async def announcer(self) -> Any:
        """A Redis client made ready before a revocation commits (None without Redis), so that the
        announcement goes out as soon as it has: connecting afterwards took longer than a beat."""
        if not self._redis_url:
            return None
        import redis.asyncio as redis

        client = redis.from_url(self._redis_url)
        try:
            await client.ping()
        except Exception:
            log.warning("Redis is unreachable; other workers see the revocation on their beat")
            await client.aclose()
            return None
        return client

    async def revoked(self, announcer: Any = None) -> None:
        """After a revocation committed here: drop what is held now, and wake the other workers."""
        self.drop()
        self._wake.set()
        if announcer is None:
            return
        try:
            await announcer.publish(CHANNEL, "1")
        except Exception:
            log.warning("could not publish a revocation on Redis; other workers see it on their beat")

    async def start(self) -> None:
        if self._tasks:
            return
        self._tasks.append(asyncio.create_task(self._watch()))
        if self._redis_url:
            self._tasks.append(asyncio.create_task(self._listen()))

    async def stop(self) -> None:
        await cancel_all(self._tasks)
        self._tasks.clear()
        self._count = None
        self.drop()

    async def _watch(self) -> None:
        while True:
            try:
                async with self._databases.session(self._domain) as session:
                    count = (
                        await session.scalars(select(RevocationCount.count).where(RevocationCount.id == REVOCATIONS_ID))
                    ).first()
                if count != self._count:
                    self.drop()
                self._count, self._read_at = count or 0, time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Not keeping up: ``watching`` turns false and nothing is held.
                log.warning("reading the revocation count failed; retrying", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_seconds)
            self._wake.clear()

    async def _listen(self) -> None:
        import redis.asyncio as redis

        assert self._redis_url is not None
        self._redis = redis.from_url(self._redis_url)
        try:
            pubsub = self._redis.pubsub()
            await pubsub.subscribe(CHANNEL)
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    self._wake.set()
        finally:
            await self._redis.aclose()
