"""GraphiQL in a real headless Chromium, against a real uvicorn server, with no network.

The server is set up the way an operator would: ``gateway db upgrade``, ``gateway seed``,
``gateway token issue`` for a city analyst and a grid worker, then uvicorn. The browser loads
``/graphiql``, the token goes into GraphiQL's headers editor, the query runs and its result must
show; the Docs panel shows the schema of the token's role, and only that.
Every request the page makes must go to 127.0.0.1: anything else is refused and fails the test.

Needs Debian's ``chromium`` and the ``playwright`` Python package (its own browser download is
never used). Without them the test is skipped, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette

try:
    from playwright.async_api import Page, Request, Route, async_playwright, expect
    from playwright.async_api import TimeoutError as PlaywrightTimeout
except ImportError:  # pragma: no cover - depends on the machine
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("GATEWAY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
UVICORN = [sys.executable, "-m", "uvicorn", "gateway.app:app_from_env", "--factory", "--no-access-log"]
SECRET_KEY = "test-secret-key-0123456789abcdef0123"
SCREENSHOT = Path("/tmp/graphiql.png")
# Schemes that never touch the network (the CSS inlines its fonts as data: URLs).
LOCAL_SCHEMES = {"data", "blob", "about"}


def _unavailable(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required when CI=true)")
    pytest.skip(reason)


def _require_browser() -> None:
    if not HAVE_PLAYWRIGHT:
        _unavailable("the Python package 'playwright' is not installed")
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"{CHROMIUM} is absent: apt-get install chromium")


def _gateway_command() -> list[str]:
    script = Path(sys.executable).with_name("gateway")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gateway.cli"]


def _run_cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [*_gateway_command(), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"`gateway {' '.join(args)}` exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"uvicorn exited {server.returncode}:\n{log.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {timeout}s:\n{log.read_text()[-4000:]}")


@dataclass(frozen=True)
class Server:
    base_url: str
    # One token per role, issued by ``gateway token issue``.
    tokens: dict[str, str]

    @property
    def token(self) -> str:
        return self.tokens["city_analyst"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_browser()
    tmp = tmp_path_factory.mktemp("graphiql-e2e")
    env = {
        **os.environ,
        "GATEWAY_DB_URL": f"sqlite+aiosqlite:///{tmp}/gw.db",
        "GATEWAY_SECRET_KEY": SECRET_KEY,
        "PYTHONUNBUFFERED": "1",
    }
    _run_cli(env, "db", "upgrade")
    _run_cli(env, "seed")
    principals: list[dict[str, Any]] = json.loads(_run_cli(env, "principals", "--json"))
    tokens: dict[str, str] = {}
    for role in ("city_analyst", "grid_worker"):
        principal = next((p for p in principals if p.get("role") == role), None)
        if principal is None:
            pytest.fail(f"`gateway seed` made no {role} principal: {principals}")
        lines = _run_cli(env, "token", "issue", "--principal", str(principal["id"])).strip().splitlines()
        if not lines:
            pytest.fail("`gateway token issue` printed no token")
        tokens[role] = lines[-1].strip()

    port = _free_port()
    log = tmp / "uvicorn.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen(
            [*UVICORN, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        _wait_healthy(f"{base_url}/healthz", proc, log)
        yield Server(base_url=base_url, tokens=tokens)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass
class Traffic:
    """What the page asked for: every URL, what was refused, and the headers sent to /graphql."""

    requested: list[str]
    refused: list[str]
    graphql_headers: list[dict[str, str]]


@asynccontextmanager
async def graphiql_page(base_url: str, traffic: Traffic, problems: list[str]) -> AsyncIterator[Page]:
    """GraphiQL loaded in headless Chromium; any request off 127.0.0.1 is refused and noted in ``traffic``."""

    async def guard(route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        traffic.requested.append(request.url)
        if url.scheme in LOCAL_SCHEMES:
            await route.continue_()
        elif url.scheme in {"http", "https", "ws", "wss"} and url.hostname == "127.0.0.1":
            if url.path == "/graphql" and request.method == "POST":
                traffic.graphql_headers.append(await request.all_headers())
            await route.continue_()
        else:
            traffic.refused.append(request.url)
            await route.abort("blockedbyclient")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(viewport={"width": 1280, "height": 800}, service_workers="block")
            await context.route("**/*", guard)
            page = await context.new_page()
            page.on("websocket", lambda ws: traffic.requested.append(ws.url))
            page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
            )

            response = await page.goto(f"{base_url}/graphiql", wait_until="load")
            assert response is not None and response.status == 200, response and await response.text()
            assert await page.title() == "Grassroots gateway – GraphiQL"
            await expect(page.locator(".graphiql-container")).to_be_visible(timeout=15_000)
            yield page
        finally:
            await browser.close()


async def enter_token(page: Page, token: str) -> None:
    """Open the headers pane, check the prefilled hint, replace it with the token."""
    await page.locator('.graphiql-editor-tools button[data-name="headers"]').click()
    headers_editor = page.locator(".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror")
    await expect(headers_editor).to_be_visible()
    await expect(headers_editor).to_contain_text("Authorization")
    headers = json.dumps({"Authorization": f"Bearer {token}"})
    await headers_editor.evaluate("(el, value) => el.CodeMirror.setValue(value)", headers)


async def run_query_in_graphiql(base_url: str, token: str, screenshot: Path = SCREENSHOT) -> Traffic:
    """Open GraphiQL, put the token in its headers editor, run ``{ me { id role } }``; return the traffic.

    Fails unless the result pane shows ``"city_analyst"``.
    """
    traffic = Traffic(requested=[], refused=[], graphql_headers=[])
    problems: list[str] = []
    async with graphiql_page(base_url, traffic, problems) as page:
        await enter_token(page, token)
        query_editor = page.locator(".graphiql-query-editor .CodeMirror")
        await query_editor.evaluate("(el, value) => el.CodeMirror.setValue(value)", "{ me { id role } }")

        await page.locator(".graphiql-execute-button").click()
        result = page.locator(".graphiql-response")
        try:
            await expect(result).to_contain_text('"city_analyst"', timeout=15_000)
        except AssertionError as error:
            await page.screenshot(path=str(screenshot.with_suffix(".failed.png")))
            raise AssertionError(f"{error}\nresult pane: {await result.inner_text()}\n{problems}") from None
        await page.screenshot(path=str(screenshot))

    csp = [p for p in problems if "Content Security Policy" in p]
    assert not csp, f"the page's CSP blocked something it needs: {csp}"
    assert not [p for p in problems if p.startswith("page error")], problems
    return traffic


def exact(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


async def fields_in_docs(base_url: str, token: str, type_name: str, screenshot: Path) -> list[str]:
    """Load the schema with ``token``, open the Docs panel and ``type_name`` in it; return the fields it lists."""
    traffic = Traffic(requested=[], refused=[], graphql_headers=[])
    problems: list[str] = []
    async with graphiql_page(base_url, traffic, problems) as page:
        await enter_token(page, token)
        # GraphiQL takes the editor's headers over after a debounce; it persists them at the same time.
        await page.wait_for_function("t => (localStorage.getItem('graphiql:headers') || '').includes(t)", arg=token)
        await page.locator('.graphiql-sidebar button[aria-label="Re-fetch GraphQL schema"]').click()
        await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click()
        explorer = page.locator(".graphiql-doc-explorer")
        try:
            # The schema's types are listed once the introspection query has succeeded; follow the link
            # (not the search box: its results re-sort as they arrive).
            links = explorer.locator("a.graphiql-doc-explorer-type-name")
            await links.filter(has_text=exact(type_name)).first.click(timeout=15_000)
            await expect(explorer.locator(".graphiql-doc-explorer-title")).to_have_text(type_name)
            names = explorer.locator(".graphiql-doc-explorer-field-name")
            await expect(names.first).to_be_visible()
        except (AssertionError, PlaywrightTimeout) as error:
            await page.screenshot(path=str(screenshot.with_suffix(".failed.png")))
            raise AssertionError(f"{error}\ndocs panel: {await explorer.inner_text()}\n{problems}") from None
        await page.screenshot(path=str(screenshot))
        fields: list[str] = await names.all_inner_texts()
    assert not traffic.refused, traffic.refused
    assert not [p for p in problems if p.startswith("page error")], problems
    return fields


async def test_graphiql_runs_a_query_with_the_token_from_its_headers_editor(server: Server) -> None:
    traffic = await run_query_in_graphiql(server.base_url, server.token)

    assert not traffic.refused, f"the page tried to reach outside 127.0.0.1: {traffic.refused}"
    outside = [url for url in traffic.requested if urlsplit(url).scheme not in LOCAL_SCHEMES]
    outside = [url for url in outside if urlsplit(url).hostname != "127.0.0.1"]
    assert not outside, outside
    assert any("/graphiql/assets/graphiql/" in url for url in traffic.requested)
    # The headers editor is really what carried the token.
    assert traffic.graphql_headers, "GraphiQL sent no POST to /graphql"
    assert traffic.graphql_headers[-1].get("authorization") == f"Bearer {server.token}"


def test_page_loads_only_from_its_own_origin() -> None:
    from gateway.transport import graphiql_page_html

    html = graphiql_page_html()
    assert "://" not in html, "the page must name no outside URL"
    assert "default-src 'none'" in html and "connect-src 'self'" in html
    assert 'src="/graphiql/assets/graphiql/graphiql.min.js"' in html
    assert "isHeadersEditorEnabled: true" in html
    assert "<script>alert" not in graphiql_page_html("/x</script><script>alert(1)//")


def _asgi_client(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")


async def test_missing_assets_give_503_not_a_crash(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from gateway.transport import graphiql

    monkeypatch.setattr(graphiql, "ASSET_DIR", tmp_path / "node_modules")
    async with _asgi_client(Starlette(routes=graphiql.graphiql_routes())) as client:
        for path in ("/graphiql", "/graphiql/assets/graphiql/graphiql.min.js"):
            response = await client.get(path)
            assert response.status_code == 503, path
            assert "make" in response.text and "npm ci" in response.text
        assert (await client.get("/graphiql/assets/left-pad/index.js")).status_code == 404


async def test_assets_are_served_but_only_the_whitelisted_packages() -> None:
    from gateway.transport import ASSET_FILES, assets_installed, graphiql_routes

    if not assets_installed():
        _unavailable("GraphiQL assets missing: npm ci --prefix gateway/transport/static")
    async with _asgi_client(Starlette(routes=graphiql_routes())) as client:
        page = await client.get("/graphiql")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        for relative in ASSET_FILES.values():
            assert (await client.get(f"/graphiql/assets/{relative}")).status_code == 200, relative
        assert (await client.get("/graphiql/assets/graphql/package.json")).status_code == 404
        assert (await client.get("/graphiql/assets/react/../graphql/package.json")).status_code == 404


def test_assets_are_installed() -> None:
    """``make`` must have run ``npm ci`` in gateway/transport/static; under CI=true their absence fails."""
    from gateway.transport import ASSET_DIR, assets_installed

    if not assets_installed():
        _unavailable(f"GraphiQL assets missing in {ASSET_DIR}: npm ci --prefix gateway/transport/static")


@pytest.mark.parametrize(("role", "sees_id_number"), [("grid_worker", False), ("city_analyst", True)])
async def test_the_docs_panel_shows_the_roles_own_schema(server: Server, role: str, sees_id_number: bool) -> None:
    fields = await fields_in_docs(
        server.base_url, server.tokens[role], "Resident", Path(f"/tmp/graphiql-docs-{role}.png")
    )
    assert {"id", "name", "address", "household"} <= set(fields), fields
    assert ("idNumber" in fields) is sees_id_number, fields
