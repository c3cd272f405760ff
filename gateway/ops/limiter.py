"""Counting against limits: the ``limits`` package, in this process or shared through Redis.

With ``GATEWAY_REDIS_URL`` set the counts live in Redis (``limits``' Redis storage over redis-py),
so every worker and every gateway sharing it counts against the same limits; otherwise in this
process's memory. The strategy is the sliding window counter (two counters a key, whatever the
cost spent, weighted across the window's edge), or, with ``exact``, the moving window: every hit
remembered for the window, for small exact budgets (the look-up budgets of ``gateway.policy.budget``).
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter, SlidingWindowCounterRateLimiter


class Limiter:
    def __init__(self, storage: Storage, namespace: str = "gateway", exact: bool = False) -> None:
        self.storage = storage
        self.namespace = namespace
        self._strategy: MovingWindowRateLimiter | SlidingWindowCounterRateLimiter = (
            MovingWindowRateLimiter(storage) if exact else SlidingWindowCounterRateLimiter(storage)
        )

    @property
    def shared(self) -> bool:
        return isinstance(self.storage, RedisStorage)

    async def hit(self, amount: int, seconds: int, key: tuple[str, ...], cost: int = 1) -> float | None:
        """Spend ``cost`` of ``amount`` per ``seconds`` under ``key``: None when admitted, else the
        seconds to wait before trying again (nothing is spent then)."""
        item = RateLimitItemPerSecond(amount, seconds)
        identifiers = (self.namespace, *key)
        if await self._strategy.hit(item, *identifiers, cost=cost):
            return None
        stats = await self._strategy.get_window_stats(item, *identifiers)
        return max(1.0, math.ceil(stats.reset_time - time.time()))

    async def left(self, amount: int, seconds: int, key: tuple[str, ...]) -> int:
        stats = await self._strategy.get_window_stats(RateLimitItemPerSecond(amount, seconds), self.namespace, *key)
        return int(stats.remaining)

    async def clear(self, amount: int, seconds: int, key: tuple[str, ...]) -> None:
        await self._strategy.clear(RateLimitItemPerSecond(amount, seconds), self.namespace, *key)

    async def check(self) -> bool:
        """Is the storage reachable (for /readyz)."""
        return bool(await self.storage.check())


def limiter_for(redis_url: str | None, namespace: str = "gateway", exact: bool = False) -> Limiter:
    if redis_url:
        uri = redis_url if redis_url.startswith("async+") else f"async+{redis_url}"
        return Limiter(RedisStorage(uri, implementation="redispy"), namespace, exact)
    return Limiter(MemoryStorage(), namespace, exact)
