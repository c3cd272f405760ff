"""The gateway's pages in a real headless Chromium, against a real uvicorn server in demo mode.

- GraphiQL: pick ``committee_staff`` from the demo picker (no token copied), run a query and see
  the ID number masked; the Docs panel shows ``idNumber`` and no ``birthDate``; pick
  ``grid_worker`` and ``idNumber`` is gone from the docs.
- ``/policies`` as the auditor: ``Resident.idNumber`` is masked (id_number) for committee staff.
- ``/audit`` as the auditor: after committee staff read a resident, the read is on that resident's timeline.

Each keeps a screenshot under ``var/screenshots/`` (gitignored). Every request must stay on
127.0.0.1 and nothing may be blocked by the pages' Content-Security-Policy. Needs Debian's
``chromium`` and ``playwright``: skipped without them, failed under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import httpx
import pytest

from tests.e2e.servers import ROOT, Server, gateway_env, issue_tokens, prepare_database, uvicorn_server
from tests.e2e.test_graphiql import CHROMIUM, CHROMIUM_ARGS, LOCAL_SCHEMES, _require_browser, exact

with contextlib.suppress(ImportError):  # without it, _require_browser skips (or fails under CI)
    from playwright.async_api import Page, Request, Route, async_playwright, expect

SCREENSHOTS = ROOT / "var" / "screenshots"
LAPTOP_WIDTH, LAPTOP_HEIGHT = 1366, 768


@dataclass(frozen=True)
class Demo:
    server: Server
    tokens: dict[str, str]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    _require_browser()
    tmp = tmp_path_factory.mktemp("pages-e2e")
    env = gateway_env(f"sqlite+aiosqlite:///{tmp}/gw.db", DEMO="true")
    prepare_database(env)
    tokens = issue_tokens(env, "committee.demo", "auditor.city")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with uvicorn_server(env, tmp / "uvicorn.log") as server:
        yield Demo(server, tokens)


@dataclass
class Watch:
    requested: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def check(self) -> None:
        assert not self.refused, f"the page tried to reach outside 127.0.0.1: {self.refused}"
        blocked = [p for p in self.problems if "Content Security Policy" in p]
        assert not blocked, f"the CSP blocked something the page needs: {blocked}"
        assert not [p for p in self.problems if p.startswith("page error")], self.problems


@asynccontextmanager
async def browser_page(base_url: str, path: str, watch: Watch) -> AsyncIterator[Page]:
    async def guard(route: Route, request: Request) -> None:
        url = urlsplit(request.url)
        watch.requested.append(request.url)
        if url.scheme in LOCAL_SCHEMES or url.hostname == "127.0.0.1":
            await route.continue_()
        else:
            watch.refused.append(request.url)
            await route.abort("blockedbyclient")

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = await browser.new_context(
                viewport={"width": LAPTOP_WIDTH, "height": LAPTOP_HEIGHT}, service_workers="block"
            )
            await context.route("**/*", guard)
            page = await context.new_page()
            page.on("pageerror", lambda error: watch.problems.append(f"page error: {error}"))
            page.on(
                "console",
                lambda msg: watch.problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None,
            )
            response = await page.goto(f"{base_url}{path}", wait_until="load")
            assert response is not None and response.status == 200
            yield page
        finally:
            await browser.close()


async def _fits_the_laptop(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= LAPTOP_WIDTH, f"the page is {width}px wide: it scrolls sideways at 1366 px"


async def _docs_fields(page: Page, type_name: str) -> list[str]:
    explorer = page.locator(".graphiql-doc-explorer")
    if not await explorer.is_visible():
        await page.locator('.graphiql-sidebar button[aria-label="Show Documentation Explorer"]').click()
    title = explorer.locator(".graphiql-doc-explorer-title")
    if (await title.inner_text()).strip() != type_name:
        links = explorer.locator("a.graphiql-doc-explorer-type-name")
        await links.filter(has_text=exact(type_name)).first.click(timeout=15_000)
    await expect(title).to_have_text(type_name)
    names = explorer.locator(".graphiql-doc-explorer-field-name")
    await expect(names.first).to_be_visible()
    fields: list[str] = await names.all_inner_texts()
    return fields


async def _pick(page: Page, role: str) -> None:
    await page.locator("#demo-principal").select_option(role)
    await expect(page.locator("#who")).to_contain_text(role)
    await expect(page.locator(".graphiql-container")).to_be_visible(timeout=15_000)


async def test_graphiql_demo_picker_switches_role_schema_and_docs(demo: Demo) -> None:
    watch = Watch()
    async with browser_page(demo.server.base_url, "/graphiql", watch) as page:
        await expect(page.locator(".graphiql-container")).to_be_visible(timeout=15_000)
        # The example tabs: me, the five-domain query, a workflow mutation, a subscription.
        tabs = page.locator(".graphiql-tab")
        await expect(tabs).to_have_count(4)
        await expect(tabs.nth(1)).to_contain_text("FiveDomains")
        await expect(tabs.nth(3)).to_contain_text("DisputeUpdates")

        await expect(page.locator("#demo-principal")).to_be_visible(timeout=15_000)
        await _pick(page, "committee_staff")
        editor = page.locator(".graphiql-query-editor .CodeMirror")
        await editor.evaluate(
            "(el, value) => el.CodeMirror.setValue(value)", "{ residents(first: 2) { nodes { name idNumber } } }"
        )
        await page.locator(".graphiql-execute-button").click()
        result = page.locator(".graphiql-response")
        await expect(result).to_contain_text("********", timeout=15_000)
        fields = await _docs_fields(page, "Resident")
        assert "idNumber" in fields and "birthDate" not in fields, fields
        await _fits_the_laptop(page)
        await page.screenshot(path=str(SCREENSHOTS / "graphiql-committee_staff.png"))

        await _pick(page, "grid_worker")
        # The schema is fetched again for the grid worker: idNumber leaves the docs, the tabs stay.
        names = page.locator(".graphiql-doc-explorer .graphiql-doc-explorer-field-name")
        await expect(names.filter(has_text=exact("idNumber"))).to_have_count(0, timeout=15_000)
        fields = await _docs_fields(page, "Resident")
        assert "idNumber" not in fields and "name" in fields, fields
        await expect(tabs).to_have_count(4)
        await page.screenshot(path=str(SCREENSHOTS / "graphiql-grid_worker.png"))
    watch.check()


async def test_policy_page_shows_the_committees_masked_id_number(demo: Demo) -> None:
    watch = Watch()
    async with browser_page(demo.server.base_url, "/policies", watch) as page:
        await page.locator("#token").fill(demo.tokens["auditor.city"])
        await expect(page.locator("#version")).to_contain_text("Policy version", timeout=30_000)
        await page.locator("#policy-filter").select_option("role committee_staff")
        await page.locator("#type-filter").select_option("Resident")
        cell = page.locator('td[data-policy="role committee_staff"][data-field="Resident.idNumber"]')
        await expect(cell).to_contain_text("masked (id_number)")
        await expect(cell).to_contain_text("120101********1234")
        birth = page.locator('td[data-policy="role committee_staff"][data-field="Resident.birthDate"]')
        await expect(birth).to_contain_text("denied")
        await expect(page.locator('#policy-details tr[data-mutation="reportDispute"]')).to_contain_text("own_staff")
        await _fits_the_laptop(page)
        await page.screenshot(path=str(SCREENSHOTS / "policies-committee_staff.png"), full_page=True)
    watch.check()


async def test_policy_page_refuses_a_role_without_the_grant(demo: Demo) -> None:
    watch = Watch()
    async with browser_page(demo.server.base_url, "/policies", watch) as page:
        await page.locator("#token").fill(demo.tokens["committee.demo"])
        await expect(page.locator("#policy-answer .error")).to_contain_text("FORBIDDEN", timeout=15_000)
    assert not watch.refused


async def test_audit_page_finds_the_committee_read_of_a_resident(demo: Demo) -> None:
    base = demo.server.base_url
    committee = {"Authorization": f"Bearer {demo.tokens['committee.demo']}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        listed = await client.post(
            "/graphql", json={"query": "{ residents(first: 1) { nodes { id } } }"}, headers=committee
        )
        resident = listed.json()["data"]["residents"]["nodes"][0]["id"]
        read = await client.post(
            "/graphql",
            json={
                "query": "query Counter($id: ID!) { resident(id: $id) { name idNumber } }",
                "variables": {"id": resident},
            },
            headers={**committee, "X-Purpose": quote("居民投诉 case 42")},
        )
        assert "errors" not in read.json(), read.text

    watch = Watch()
    async with browser_page(base, "/audit", watch) as page:
        await page.locator("#token").fill(demo.tokens["auditor.city"])
        await page.locator("#record-id").fill(resident)
        await page.locator("#lookup button[type=submit]").click()
        timeline = page.locator("#timeline")
        await expect(timeline).to_contain_text("committee.demo", timeout=15_000)
        entry = timeline.locator("li", has_text="居民投诉 case 42")
        await expect(entry).to_contain_text("Counter")
        await expect(entry).to_contain_text("Resident.idNumber masked")
        # When, as the API gives it: the gateway's local time with its offset.
        await expect(entry.locator("strong")).to_have_text(re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+08:00$"))
        await expect(page.locator('[data-chart="By agency"] svg rect').first).to_be_visible()
        await expect(page.locator('[data-chart="By purpose"] svg')).to_contain_text("居民投诉 case 42")
        await _fits_the_laptop(page)
        await page.screenshot(path=str(SCREENSHOTS / "audit-resident.png"), full_page=True)
    watch.check()


async def test_demo_tokens_exist_only_in_demo_mode(demo: Demo) -> None:
    async with httpx.AsyncClient(base_url=demo.server.base_url) as client:
        listed = (await client.get("/graphiql/demo-tokens")).json()["principals"]
    assert {"committee_staff", "grid_worker", "auditor"} <= {p["role"] for p in listed}
