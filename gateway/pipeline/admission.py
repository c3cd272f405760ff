"""Admission by cost: at most a few heavy operations execute at once in a worker; light ones never wait.

graphql-core resolves a large page in the event loop, so twenty heavy pages at once would hold up
every small request behind them. An operation whose cost (see ``cost.py``) reaches
``GATEWAY_HEAVY_COST`` waits for one of ``GATEWAY_HEAVY_SLOTS``; the wait counts toward its
time-out, so one that cannot be admitted in time is a 503 (TIMEOUT) like one that ran too long.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Admission:
    def __init__(self, heavy_cost: int, slots: int) -> None:
        self.heavy_cost = heavy_cost
        self._slots = asyncio.Semaphore(slots)

    @asynccontextmanager
    async def admit(self, cost: int) -> AsyncIterator[None]:
        if cost < self.heavy_cost:
            yield
            return
        async with self._slots:
            yield
