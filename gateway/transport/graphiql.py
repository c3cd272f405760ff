"""GraphiQL, served by the gateway itself.

The police network is closed, so nothing may load from a CDN. GraphiQL and React are installed
at set-up time from the npm registry into ``gateway/transport/static/node_modules`` (``make`` runs
``npm ci`` there) and served under ``/graphiql/assets/``. The page also carries a
Content-Security-Policy that lets the browser load nothing but this origin.

    app = Starlette(routes=[*graphiql_routes(), ...])
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

__all__ = [
    "ASSET_DIR",
    "ASSET_FILES",
    "assets_installed",
    "graphiql_page_html",
    "graphiql_response",
    "graphiql_routes",
]

ASSET_DIR: Path = Path(__file__).resolve().parent / "static" / "node_modules"
ASSET_URL = "/graphiql/assets"

# The only npm packages whose files are served; everything else in node_modules stays private.
PACKAGES = ("react", "react-dom", "graphiql")

# The files the page loads, relative to ASSET_DIR (UMD builds: React 18 and GraphiQL 3).
ASSET_FILES: dict[str, str] = {
    "react": "react/umd/react.production.min.js",
    "react_dom": "react-dom/umd/react-dom.production.min.js",
    "graphiql_js": "graphiql/graphiql.min.js",
    "graphiql_css": "graphiql/graphiql.min.css",
}

MISSING_ASSETS_TEXT = (
    "GraphiQL assets are not installed. Run `make` (it runs "
    "`npm ci --prefix gateway/transport/static --no-audit --no-fund`) and reload this page.\n"
)

DEFAULT_QUERY = "{ me { id name role } }\n"
DEFAULT_HEADERS = '{"Authorization": "Bearer <paste a token from make run>"}'

_SCRIPT = """
const root = ReactDOM.createRoot(document.getElementById("graphiql"));
async function fetcher(params, options) {
  const headers = (options && options.headers) || {};
  if (String(headers.Authorization || headers.authorization || "").includes("<paste")) {
    // Nothing is sent until a real token replaces the placeholder.
    return {errors: [{message: "Paste a token printed by `make run` into the Headers pane, " +
      "then press the re-fetch schema button (or reload) to load the documentation."}]};
  }
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: {
      "Accept": "application/graphql-response+json, application/json",
      ...((options && options.headers) || {}),
      "Content-Type": "application/json",
    },
    body: JSON.stringify(params),
  });
  const text = await response.text();
  try {
    return JSON.parse(text);
  } catch {
    return {errors: [{message: "HTTP " + response.status + ": " + text}]};
  }
}
root.render(React.createElement(GraphiQL, {
  fetcher,
  defaultQuery: DEFAULT_QUERY,
  defaultHeaders: DEFAULT_HEADERS,
  isHeadersEditorEnabled: true,
  shouldPersistHeaders: true,
  defaultEditorToolsVisibility: "headers",
}));
"""


def assets_installed() -> bool:
    """Whether every file the page loads is present in ASSET_DIR."""
    return all((ASSET_DIR / relative).is_file() for relative in ASSET_FILES.values())


def _js_literal(value: str) -> str:
    # JSON is valid JavaScript; escaping "<" keeps "</script>" from closing the inline script.
    return json.dumps(value).replace("<", "\\u003c")


def _script(endpoint: str) -> str:
    return (
        f"const ENDPOINT = {_js_literal(endpoint)};\n"
        f"const DEFAULT_QUERY = {_js_literal(DEFAULT_QUERY)};\n"
        f"const DEFAULT_HEADERS = {_js_literal(DEFAULT_HEADERS)};" + _SCRIPT
    )


def page_csp(endpoint: str = "/graphql") -> str:
    """The page's Content-Security-Policy: nothing but this origin, and its one inline script by hash."""
    script_hash = base64.b64encode(hashlib.sha256(_script(endpoint).encode()).digest()).decode()
    return (
        "default-src 'none'; "
        f"script-src 'self' 'sha256-{script_hash}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'"
    )


def graphiql_page_html(endpoint: str = "/graphql") -> str:
    """The GraphiQL page, posting queries to ``endpoint`` (a path on this origin)."""
    script = _script(endpoint)
    csp = page_csp(endpoint)
    asset = {name: f"{ASSET_URL}/{relative}" for name, relative in ASSET_FILES.items()}
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<title>Grassroots gateway – GraphiQL</title>
<link rel="stylesheet" href="{asset["graphiql_css"]}">
<style>html, body, #graphiql {{ height: 100%; margin: 0; }}</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script src="{asset["react"]}"></script>
<script src="{asset["react_dom"]}"></script>
<script src="{asset["graphiql_js"]}"></script>
<script>{script}</script>
</body>
</html>
"""


def graphiql_response(endpoint: str = "/graphql") -> Response:
    """The page, or a 503 telling the operator to install the assets."""
    if not assets_installed():
        return PlainTextResponse(MISSING_ASSETS_TEXT, status_code=503)
    # The policy is also sent as a header, where frame-ancestors (ignored in a <meta>) takes effect.
    csp = f"{page_csp(endpoint)}; frame-ancestors 'none'"
    return HTMLResponse(graphiql_page_html(endpoint), headers={"Content-Security-Policy": csp})


async def graphiql_page(request: Request) -> Response:
    return graphiql_response()


class _PackageFiles(StaticFiles):
    """StaticFiles for one npm package: a 503 with the fix, not a crash, while it is not installed."""

    async def check_config(self) -> None:
        if self.directory is None or not Path(self.directory).is_dir():
            raise HTTPException(status_code=503, detail=MISSING_ASSETS_TEXT)
        await super().check_config()


def graphiql_routes() -> list[BaseRoute]:
    """``/graphiql`` (the page) and ``/graphiql/assets/<package>/...`` (its files)."""
    packages: list[BaseRoute] = [
        Mount(f"/{package}", app=_PackageFiles(directory=ASSET_DIR / package, check_dir=False)) for package in PACKAGES
    ]
    return [
        Route("/graphiql", graphiql_page, methods=["GET"], name="graphiql"),
        Mount(ASSET_URL, routes=packages, name="graphiql-assets"),
    ]
