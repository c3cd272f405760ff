"""The gateway's own pages: ``/policies`` (the policy matrix) and ``/audit`` (who accessed a record).

Static HTML and scripts served by the gateway, under a Content-Security-Policy to self; their
data comes from the API with the bearer token the user pasted (kept in ``sessionStorage``).
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from gateway.transport.pages.audit import audit_page
from gateway.transport.pages.policies import policies_data, policies_page
from gateway.transport.pages.shell import ASSETS, CSP

STATIC = Path(__file__).resolve().parent / "static"

__all__ = ["CSP", "page_routes"]


def page_routes() -> list[BaseRoute]:
    return [
        Route("/policies", policies_page, methods=["GET"]),
        Route("/policies/data", policies_data, methods=["GET"]),
        Route("/audit", audit_page, methods=["GET"]),
        Mount(ASSETS, app=StaticFiles(directory=STATIC), name="page-assets"),
    ]
