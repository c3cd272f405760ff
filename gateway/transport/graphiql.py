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

from gateway.transport.examples import EXAMPLE_TABS

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
# Exists only in demo mode (gateway.transport.demo).
DEMO_TOKENS_PATH = "/graphiql/demo-tokens"

_SCRIPT = """
const root = ReactDOM.createRoot(document.getElementById("graphiql"));
const TOKEN_KEY = "gateway:token";
const tokenInput = document.getElementById("token");
const picker = document.getElementById("demo-principal");
const who = document.getElementById("who");

// The token bar: a token pasted here (or picked, in demo mode) is kept in this tab's sessionStorage
// and sent as Authorization, over what the headers editor says; empty, the headers editor's is sent.
function barToken() { return sessionStorage.getItem(TOKEN_KEY) || ""; }

function authorization(headers) {
  const token = barToken();
  if (token) return "Bearer " + token;
  const typed = String(headers.Authorization || headers.authorization || "");
  return typed.includes("<paste") ? "" : typed;
}

function isSubscription(params) {
  const text = String(params.query || "");
  if (params.operationName) return new RegExp("subscription\\\\s+" + params.operationName + "\\\\b").test(text);
  return /^\\s*(#[^\\n]*\\n\\s*)*subscription\\b/.test(text);
}

// graphql-transport-ws, as the gateway speaks it: one socket per subscription.
function subscribe(params, auth) {
  const url = new URL(ENDPOINT, location.href);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const queue = [];
  let wake = null;
  const push = (item) => { queue.push(item); if (wake) { wake(); wake = null; } };
  const socket = new WebSocket(url, "graphql-transport-ws");
  socket.onopen = () => {
    socket.send(JSON.stringify({type: "connection_init", payload: auth ? {Authorization: auth} : {}}));
  };
  socket.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.type === "connection_ack") {
      socket.send(JSON.stringify({id: "1", type: "subscribe", payload: params}));
    } else if (message.type === "next") {
      push({value: message.payload});
    } else if (message.type === "error") {
      push({value: {errors: message.payload}}); push({done: true});
    } else if (message.type === "complete") {
      push({done: true});
    } else if (message.type === "ping") {
      socket.send(JSON.stringify({type: "pong"}));
    }
  };
  socket.onclose = (event) => {
    const reason = event.code + (event.reason ? ": " + event.reason : "");
    push({value: {errors: [{message: "connection closed (" + reason + ")"}]}});
    push({done: true});
  };
  return {
    [Symbol.asyncIterator]() { return this; },
    async next() {
      while (!queue.length) await new Promise((resolve) => { wake = resolve; });
      const item = queue.shift();
      if (item.done) { socket.close(); return {done: true, value: undefined}; }
      return {done: false, value: item.value};
    },
    async return() {
      if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({id: "1", type: "complete"}));
      socket.close();
      return {done: true, value: undefined};
    },
  };
}

async function fetcher(params, options) {
  const headers = (options && options.headers) || {};
  const auth = authorization(headers);
  if (!auth) {
    // Nothing is sent until there is a token.
    return {errors: [{message: "Paste a token into the Token field above (or into the Headers pane); " +
      "the schema and its documentation load as soon as there is one."}]};
  }
  if (isSubscription(params)) return subscribe(params, auth);
  const response = await fetch(ENDPOINT, {
    method: "POST",
    headers: {
      "Accept": "application/graphql-response+json, application/json",
      ...headers,
      "Authorization": auth,
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

// A new fetcher makes GraphiQL fetch the schema (and so the docs) again, as the new token sees it,
// keeping its tabs and panes as they are.
function render() {
  root.render(React.createElement(GraphiQL, {
    fetcher: (params, options) => fetcher(params, options),
    defaultQuery: DEFAULT_QUERY,
    defaultHeaders: DEFAULT_HEADERS,
    defaultTabs: [["Me", DEFAULT_QUERY, ""], ...EXAMPLES].map(([title, query, variables]) => (
      {query, variables, headers: DEFAULT_HEADERS})),
    isHeadersEditorEnabled: true,
    shouldPersistHeaders: true,
    defaultEditorToolsVisibility: "headers",
  }));
}

function useToken(token, label) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token.trim()); else sessionStorage.removeItem(TOKEN_KEY);
  who.textContent = token ? (label || "token from the field above") : "";
  render();
}

tokenInput.value = barToken();
if (barToken()) who.textContent = "token from the field above";
tokenInput.addEventListener("input", () => { picker.value = ""; useToken(tokenInput.value.trim()); });
// Demo mode only (GATEWAY_DEMO): the endpoint exists nowhere else, and the picker stays hidden.
fetch(DEMO_TOKENS, {headers: {"Accept": "application/json"}})
  .then((response) => response.ok ? response.json() : null)
  .then((demo) => {
    if (!demo) return;
    for (const p of demo.principals) {
      const option = document.createElement("option");
      option.value = p.role;
      option.textContent = p.role + " — " + p.principal;
      picker.append(option);
    }
    picker.hidden = false;
    picker.addEventListener("change", () => {
      const chosen = demo.principals.find((p) => p.role === picker.value);
      tokenInput.value = chosen ? chosen.token : "";
      useToken(chosen ? chosen.token : "", chosen ? chosen.role + " (" + chosen.principal + ")" : "");
    });
  })
  .catch(() => {});
render();
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
        f"const DEFAULT_HEADERS = {_js_literal(DEFAULT_HEADERS)};\n"
        f"const DEMO_TOKENS = {_js_literal(DEMO_TOKENS_PATH)};\n"
        f"const EXAMPLES = {json.dumps(EXAMPLE_TABS).replace('<', chr(92) + 'u003c')};" + _SCRIPT
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
<style>
html, body {{ height: 100%; margin: 0; }}
body {{ display: flex; flex-direction: column; font-family: system-ui, sans-serif; }}
#gateway-bar {{ display: flex; gap: 1rem; align-items: center; padding: 4px 12px; background: #1d2430; color: #fff; }}
#gateway-bar a {{ color: #cfd8e3; }}
#gateway-bar input {{ width: 22rem; }}
#who {{ color: #9fe0a0; }}
#graphiql {{ flex: 1; min-height: 0; }}
</style>
</head>
<body>
<div id="gateway-bar">
<label>Token <input id="token" type="password" autocomplete="off"
 placeholder="paste a bearer token (make run prints them)"></label>
<select id="demo-principal" aria-label="demo principal" hidden><option value="">demo principal…</option></select>
<span id="who"></span>
<span><a href="/policies">Policies</a> · <a href="/audit">Audit</a></span>
</div>
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
