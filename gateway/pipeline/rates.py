"""Rate limits per token and per agency, from the policy's ``rate_limits:`` (requests and cost a minute).

Each operation spends one request, and after it is parsed its estimated cost (see
``gateway.pipeline.cost``), of its token's limits and of its agency's (every principal of the
agency, every token, together). Over a limit it is refused with ``RATE_LIMITED`` and the seconds
to wait (HTTP 429 with ``Retry-After``), and the refusal is audited. The counts live where
``gateway.ops.limiter`` keeps them: this process, or Redis when ``GATEWAY_REDIS_URL`` is set.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

from gateway.auth import Principal
from gateway.ops import RATE_LIMITED, Limiter
from gateway.policy import Policy, RateLimit

log = logging.getLogger("gateway.rates")
MINUTE = 60
Kind = Literal["requests", "cost"]


@dataclass(frozen=True)
class Exceeded:
    """Which limit was reached, and how long to wait."""

    limit: Literal["token", "agency"]
    kind: Kind
    per_minute: int
    retry_after: int

    @property
    def message(self) -> str:
        what = "requests" if self.kind == "requests" else "estimated cost"
        whose = "this token" if self.limit == "token" else "this agency"
        return f"Rate limit reached: {self.per_minute} {what} a minute for {whose}; retry in {self.retry_after} s"


class RateGuard:
    def __init__(self, limiter: Limiter) -> None:
        self.limiter = limiter

    async def spend(self, principal: Principal, policy: Policy, kind: Kind, amount: int = 1) -> Exceeded | None:
        """Spend ``amount`` of the token's and the agency's ``kind`` limits; the first one exceeded, if any."""
        limits = policy.rate_limits
        for limit, rule, who in (
            ("token", limits.token, principal.token_id),
            ("agency", limits.agency, principal.record.agency),
        ):
            per_minute = _per_minute(rule, kind)
            if per_minute is None:
                continue
            try:
                wait = await self.limiter.hit(per_minute, MINUTE, (limit, kind, who), cost=amount)
            except Exception:
                # The counts' store is unreachable: serve (limits guard capacity, policies guard data).
                log.warning("rate-limit storage unreachable; %s %s limit not applied", limit, kind, exc_info=True)
                continue
            if wait is not None:
                RATE_LIMITED.labels(limit, kind).inc()
                return Exceeded(limit, kind, per_minute, math.ceil(wait))  # type: ignore[arg-type]
        return None


def _per_minute(rule: RateLimit, kind: Kind) -> int | None:
    return rule.requests_per_minute if kind == "requests" else rule.cost_per_minute
