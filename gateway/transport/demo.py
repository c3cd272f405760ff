"""Demo mode (``GATEWAY_DEMO=true``, set by ``make run``; never under ``GATEWAY_ENV=production``):
``GET /graphiql/demo-tokens`` hands the pages a token per demo principal, so GraphiQL's picker can
switch roles without anyone copying a token. Outside demo mode the route does not exist.

Only a client on the loopback interface is answered, and only when it asked for this machine by
a loopback name (a page elsewhere that points its own host name at 127.0.0.1 — DNS rebinding —
is refused), and only from the gateway's own pages (``Sec-Fetch-Site``, where the browser sends it).
"""

from __future__ import annotations

import time
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from gateway.kernel import Settings
from gateway.pipeline import Runtime, error_dict

DEMO_TOKEN_TTL = timedelta(hours=8)
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


class DemoTokens:
    """One token per demo principal, issued on first use and again when half its life is gone."""

    def __init__(self) -> None:
        self._issued: list[dict[str, str]] = []
        self._until = 0.0

    async def get(self, runtime: Runtime) -> list[dict[str, str]]:
        if self._issued and time.monotonic() < self._until:
            return self._issued
        wanted = dict(runtime.registry.demo_principals)
        by_id = {record.id: record for record in await runtime.directory.all()}
        issued = []
        for role, principal_id in wanted.items():
            record = by_id.get(principal_id)
            if record is None:
                continue
            token = await runtime.tokens.issue(record.id, DEMO_TOKEN_TTL, record.scopes)
            issued.append({"role": role, "principal": record.id, "name": record.name, "token": token})
        self._issued, self._until = issued, time.monotonic() + DEMO_TOKEN_TTL.total_seconds() / 2
        return issued


def demo_routes(settings: Settings) -> list[BaseRoute]:
    """The demo-only routes: none unless demo mode is on."""
    if not settings.demo_mode:
        return []
    tokens = DemoTokens()

    async def demo_tokens(request: Request) -> Response:
        client = request.client.host if request.client is not None else ""
        host = request.url.hostname or ""
        site = request.headers.get("sec-fetch-site")
        if client not in LOOPBACK or host not in LOOPBACK or site not in (None, "same-origin", "none"):
            refusal = error_dict("Demo tokens are handed out on this machine only", "FORBIDDEN")
            return JSONResponse({"errors": [refusal]}, 403)
        runtime: Runtime = request.app.state.runtime
        principals = await tokens.get(runtime)
        return JSONResponse({"principals": principals}, headers={"Cache-Control": "no-store"})

    return [Route("/graphiql/demo-tokens", demo_tokens, methods=["GET"])]
