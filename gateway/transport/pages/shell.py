"""The HTML shell every page shares: no inline script or style, a Content-Security-Policy to self.

A page is static HTML plus its own script from ``static/``; its data comes from the API with the
bearer token the user pasted (kept in ``sessionStorage``, sent as ``Authorization`` — no cookie,
so no cross-site request can act as the user).
"""

from __future__ import annotations

from html import escape

from starlette.responses import HTMLResponse

ASSETS = "/pages/assets"

# Nothing but this origin: scripts and styles from files, data from /graphql and the pages' JSON.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

NAV = (("GraphiQL", "/graphiql"), ("Policies", "/policies"), ("Audit", "/audit"))


def page(title: str, script: str, body: str, active: str) -> HTMLResponse:
    """One page: the shared header (nav, token field), ``body``, then ``static/<script>``."""
    links = " ".join(
        f'<a href="{href}"{" aria-current=page" if href == active else ""}>{escape(name)}</a>' for name, href in NAV
    )
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Grassroots gateway – {escape(title)}</title>
<link rel="stylesheet" href="{ASSETS}/pages.css">
</head>
<body>
<header>
<nav>{links}</nav>
<form id="token-form" autocomplete="off">
<label>Token <input id="token" type="password" placeholder="paste a bearer token (make run prints them)"></label>
<select id="demo-principal" hidden><option value="">demo principal…</option></select>
<span id="who"></span>
</form>
</header>
<main>
<h1>{escape(title)}</h1>
{body}
</main>
<script src="{ASSETS}/common.js"></script>
<script src="{ASSETS}/{script}"></script>
</body>
</html>
"""
    return HTMLResponse(html, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-store"})
