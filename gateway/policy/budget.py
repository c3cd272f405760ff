"""Budgets of exact look-ups by a value the principal reads only masked (``lookups:`` in a policy).

Each probe — each alias of the look-up, each element of a list argument — spends one of the
principal's look-ups of that field for the past hour; a probe beyond the budget is refused with
``RATE_LIMITED`` and returns nothing.

The counts live in this process's memory: with several workers each keeps its own, so a
principal may spend up to (workers × budget) an hour. A shared store (Redis, as the change
feed already uses) is the next step for a multi-worker deployment.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Hashable

from gateway.kernel import GatewayError

HOUR = 3600.0


class RateLimited(GatewayError):
    code = "RATE_LIMITED"


class LookupBudgets:
    """Probes spent per key (principal, look-up) over a sliding window."""

    def __init__(self, window: float = HOUR, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._spent: dict[Hashable, deque[float]] = {}

    def _recent(self, key: Hashable) -> deque[float]:
        spent = self._spent.setdefault(key, deque())
        horizon = self.clock() - self.window
        while spent and spent[0] <= horizon:
            spent.popleft()
        return spent

    def spend(self, key: Hashable, budget: int) -> bool:
        """Spend one probe; False (and nothing spent) when the budget is used up."""
        spent = self._recent(key)
        if len(spent) >= budget:
            return False
        spent.append(self.clock())
        return True

    def left(self, key: Hashable, budget: int) -> int:
        return max(0, budget - len(self._recent(key)))

    def clear(self) -> None:
        self._spent.clear()


# The gateway's one store: it outlives policy reloads, so a reload does not refill budgets.
BUDGETS = LookupBudgets()
