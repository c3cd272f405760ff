"""Budgets of exact look-ups by a value the principal reads only masked (``lookups:`` in a policy).

Each probe — each alias of the look-up, each element of a list argument — spends one of the
principal's look-ups of that field for the past hour; a probe beyond the budget is refused with
``RATE_LIMITED`` and returns nothing.

The counts are kept by the ``limits`` package (moving window: every probe remembered for the
hour): in this process's memory by default, or in Redis when ``GATEWAY_REDIS_URL`` is set, so
that several workers share one budget. If that store cannot be reached, a probe is refused.
"""

from __future__ import annotations

from contextvars import ContextVar

from limits.aio.storage import MemoryStorage

from gateway.kernel import GatewayError
from gateway.ops import Limiter

HOUR = 3600


class RateLimited(GatewayError):
    code = "RATE_LIMITED"


class LookupBudgets:
    """Probes spent per key (principal, look-up) over a moving window."""

    def __init__(self, limiter: Limiter | None = None, window: int = HOUR) -> None:
        self.limiter = limiter or Limiter(MemoryStorage(), "lookups", exact=True)
        self.window = window

    async def spend(self, key: tuple[str, ...], budget: int) -> bool:
        """Spend one probe; False (and nothing spent) when the budget is used up."""
        return await self.limiter.hit(budget, self.window, key) is None

    async def left(self, key: tuple[str, ...], budget: int) -> int:
        return await self.limiter.left(budget, self.window, key)

    async def clear(self) -> None:
        await self.limiter.storage.reset()


# The gateway's in-process store: it outlives policy reloads, so a reload does not refill budgets.
BUDGETS = LookupBudgets()
# The store of the running operation (a runtime with Redis sets its own; see Call.execute).
current_budgets: ContextVar[LookupBudgets] = ContextVar("lookup_budgets", default=BUDGETS)
