"""A live session: a socket's token, principal, area and policy, re-authorised while it stays open.

A subscription is a request that lasts. Before each event is read, and on a short beat while
none arrive, the session asks again what HTTP would ask at that moment: is the token signed,
unexpired and unrevoked, is the principal still active, where is its area now, which policy is
in force. A refusal ends the session; a changed principal or policy is adopted by the next event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from gateway.auth import Principal
from gateway.kernel import Context
from gateway.pipeline.operation import Refused, authenticate
from gateway.pipeline.runtime import Runtime


class LiveSession:
    def __init__(self, runtime: Runtime, authorization: str | None, purpose: str | None) -> None:
        self.runtime = runtime
        self.purpose = purpose
        self._authorization = authorization
        self._principal: Principal | None = None

    @property
    def principal(self) -> Principal:
        assert self._principal is not None, "open the session first"
        return self._principal

    async def open(self) -> Principal:
        self._principal = await authenticate(self.runtime, self._authorization, self.purpose)
        return self._principal

    async def confirm(self) -> Principal:
        """The principal as of now, read afresh; ``Refused`` when HTTP would refuse the token now."""
        self._principal = await authenticate(self.runtime, self._authorization, self.purpose, fresh=True)
        return self._principal

    def follow(self, context: Context, query: str) -> Callable[[], Awaitable[None]]:
        """The guard of a subscription's feed, run before each event: re-authorise, then read as the
        principal and policy of this moment. A document the new policy no longer allows ends it."""

        async def before_event() -> None:
            principal = await self.confirm()
            policy = self.runtime.policy_for(principal)
            if principal == context.principal and policy is context.policy:
                return
            prepared = self.runtime.executor_for(principal).prepare(query)
            if prepared.document is None:
                raise Refused("invalid", list(prepared.errors))
            context.principal, context.policy = principal, policy
            context.scope = self.runtime.scope_for(principal)

        return before_event

    async def watch(self, on_refused: Callable[[Refused], Awaitable[None]]) -> None:
        """Re-authorise on a beat, so a session whose token is revoked ends even when no event comes."""
        while True:
            await asyncio.sleep(self.runtime.settings.session_check_seconds)
            try:
                await self.confirm()
            except Refused as refused:
                await on_refused(refused)
                return
