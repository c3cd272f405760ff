"""Budgeted look-ups by a masked value, small counts suppressed, and the tooling that keeps rules on values."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import strawberry

from gateway.audit import Touched
from gateway.kernel import Domain, load_registry
from gateway.policy import BUDGETS, LookupBudgets, explain, load_and_check, load_policies
from gateway.schema import COMPUTED_FROM, Node, build_schema, visible_fields
from tests.harness import Gateway, running_gateway

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = load_registry()
FIELDS = visible_fields(build_schema(REGISTRY.domains))
BUDGET = load_policies(ROOT / "policies").roles["committee_staff"].lookups["residentByIdNumber"].budget


@pytest.fixture
async def fresh_budgets() -> AsyncIterator[None]:
    await BUDGETS.clear()
    yield
    await BUDGETS.clear()


@pytest.fixture
def touched(monkeypatch: pytest.MonkeyPatch) -> list[Touched]:
    """Every per-request Touched record made while the test runs."""
    made: list[Touched] = []

    class Recorded(Touched):
        def __init__(self, **given: Any) -> None:
            super().__init__(**given)
            made.append(self)

    monkeypatch.setattr("gateway.pipeline.operation.Touched", Recorded)
    return made


async def _id_numbers(gw: Gateway, n: int) -> list[str]:
    nodes = (await gw.query("{ residents(first: 100) { nodes { idNumber } } }"))["residents"]["nodes"]
    return [nodes[i % len(nodes)]["idNumber"] for i in range(n)]


def _probes(numbers: list[str]) -> str:
    return "{ " + " ".join(f'p{i}: residentByIdNumber(idNumber: "{v}") {{ id }}' for i, v in enumerate(numbers)) + " }"


async def test_every_alias_spends_the_budget_and_past_it_nothing_is_returned(
    gw: Gateway, fresh_budgets: None, touched: list[Touched]
) -> None:
    numbers = await _id_numbers(gw, BUDGET + 5)
    # Two requests, for a document may hold no more than GATEWAY_MAX_ALIASES (15) aliases.
    first, second = numbers[:15], numbers[15:]
    within = (await gw.post(_probes(first), role="committee_staff")).json()
    assert "errors" not in within, within
    body = (await gw.post(_probes(second), role="committee_staff")).json()
    left = BUDGET - len(first)
    limited = [e for e in body["errors"] if e["extensions"]["code"] == "RATE_LIMITED"]
    assert sorted(e["path"][0] for e in limited) == sorted(f"p{i}" for i in range(left, len(second)))
    assert all(body["data"][f"p{i}"] is None for i in range(left, len(second))), "nothing for a refused probe"
    found = [within["data"][f"p{i}"] for i in range(len(first))]
    assert any(found), "probes within the budget are answered (residents of the committee's own community)"
    lookups = touched[-1].lookups
    assert lookups.count("Query.residentByIdNumber") == left
    assert lookups.count("Query.residentByIdNumber: refused") == len(second) - left
    assert not any(n in " ".join(lookups) for n in numbers), "the audit notes probes, never the value"
    again = (await gw.post(_probes(numbers[:1]), role="committee_staff")).json()
    assert again["errors"][0]["extensions"]["code"] == "RATE_LIMITED" and again["data"]["p0"] is None


async def test_readers_in_clear_have_no_budget_and_grid_workers_no_look_up(gw: Gateway, fresh_budgets: None) -> None:
    numbers = await _id_numbers(gw, BUDGET + 10)
    for part in (numbers[:15], numbers[15:]):  # at most 15 aliases a document
        body = (await gw.post(_probes(part), role="community_police")).json()
        assert "errors" not in body, "the police read ID numbers in clear: no budget applies"
    errors = await gw.errors(_probes(numbers[:1]), role="grid_worker")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    filtered = await gw.errors(
        '{ residents(filter: {idNumber: "120101199001011234"}) { nodes { id } } }', role="committee_staff"
    )
    assert filtered[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED", "no filter by a masked value"


async def test_grid_workers_cannot_filter_on_what_they_may_not_read(gw: Gateway) -> None:
    query = '{ residents(filter: {registered: {since: "2020-01-01"}}) { nodes { id } } }'
    errors = await gw.errors(query, role="grid_worker")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await gw.query(query, role="committee_staff"))["residents"] is not None


async def test_a_budget_is_per_key_and_slides_with_the_window() -> None:
    budgets = LookupBudgets(window=1)  # an hour in the gateway; a second here
    assert [await budgets.spend(("a",), 3) for _ in range(3)] == [True, True, True]
    assert not await budgets.spend(("a",), 3) and await budgets.spend(("b",), 3)
    assert await budgets.left(("a",), 3) == 0
    await asyncio.sleep(1.1)
    assert await budgets.left(("a",), 3) == 3 and await budgets.spend(("a",), 3)


async def test_with_redis_two_workers_share_one_budget() -> None:
    from gateway.ops import limiter_for
    from tests.harness import redis_url

    url = await redis_url()
    namespace = f"test-{uuid.uuid4().hex}"
    one, two = (LookupBudgets(limiter_for(url, namespace, exact=True)) for _ in range(2))
    assert await one.spend(("p", "Query.residentByIdNumber"), 2) and await two.spend(
        ("p", "Query.residentByIdNumber"), 2
    )
    assert not await one.spend(("p", "Query.residentByIdNumber"), 2)
    assert one.limiter.shared


# --- small counts ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def counting(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Gateway]:
    """The demo gateway where the auditor may count residents, disputes and grids, but list none."""
    folder = tmp_path_factory.mktemp("counts")
    policies = Path(shutil.copytree(ROOT / "policies", folder / "policies"))
    path = policies / "roles" / "auditor.yaml"
    path.write_text(
        path.read_text()
        + "  Resident: {rows: city, aggregate: true}\n"
        + "  Dispute: {rows: city, aggregate: true}\n"
        + "  Grid: {rows: city, aggregate: true}\n"
    )
    async with running_gateway("sqlite", f"sqlite+aiosqlite:///{folder / 'gw.db'}", policy_dir=policies) as gateway:
        yield gateway


STATS = """{
  residentStats { total byAgeBand { key count } byRegistrationKind { key count } byGender { key count } }
  disputeStats { total byCategory { key count } byStatus { key count } }
  gridStats { total byRiskColour { key count } }
}"""


async def test_small_counts_are_suppressed_for_those_who_may_count_but_not_list(counting: Gateway) -> None:
    smallest = counting.settings.min_group_size
    full = (await counting.post(STATS, role="city_analyst")).json()
    assert "suppressed" not in full.get("extensions", {}), "the analyst lists the rows: nothing to suppress"
    body = (await counting.post(STATS, role="auditor")).json()
    assert "errors" not in body, body
    listed = set(body["extensions"]["suppressed"])
    hidden = 0
    for stat, parts in body["data"].items():
        for name, buckets in parts.items():
            if name == "total":
                assert buckets == full["data"][stat]["total"] or (buckets is None and f"{stat}.total" in listed)
                continue
            truth = {b["key"]: b["count"] for b in full["data"][stat][name]}
            suppressed = [i for i, b in enumerate(buckets) if b["count"] is None]
            for i, bucket in enumerate(buckets):
                if bucket["count"] is None:
                    assert f"{stat}.{name}.{i}.count" in listed
                    hidden += 1
                else:
                    assert bucket["count"] == truth[bucket["key"]] and bucket["count"] >= smallest
            assert len(suppressed) != 1 or len(buckets) == 1, f"{stat}.{name}: a lone suppressed bucket is given away"
    assert hidden, "the demo data has small groups: some must have been suppressed"


async def test_readers_of_the_grouped_values_see_every_count(counting: Gateway) -> None:
    body = (await counting.post("{ residentStats { byGender { key count } } }", role="committee_staff")).json()
    assert "suppressed" not in body.get("extensions", {})
    assert all(b["count"] is not None for b in body["data"]["residentStats"]["byGender"])


# --- tooling -----------------------------------------------------------------------------------


def test_check_names_a_field_that_shows_a_personal_column_no_rule_covers() -> None:
    population = next(d for d in REGISTRY.domains if d.name == "population")

    @strawberry.type
    class Nosy(Node):
        @strawberry.field
        def initials(self) -> str:  # reads the name, declares nothing
            return ""

        @strawberry.field(metadata={COMPUTED_FROM: ["birth_date"]})
        def decade(self) -> int:
            return 0

    model = population.types["Resident"][0]
    nosy = Domain(name="nosy", metadata=population.metadata, query=population.query, types={"Resident": (model, Nosy)})
    others = tuple(d for d in REGISTRY.domains if d is not population)
    _, problems = load_and_check(ROOT / "policies", (*others, nosy), REGISTRY.demo_principals, FIELDS)
    found = [p for p in problems if "Resident.initials" in p]
    assert len(found) == 1 and "declares nothing it reads" in found[0] and "idNumber" in found[0], problems
    assert not [p for p in problems if "Resident.decade" in p]


def test_check_refuses_a_rule_written_on_a_copy(tmp_path: Path) -> None:
    folder = Path(shutil.copytree(ROOT / "policies", tmp_path / "policies"))
    path = folder / "roles" / "grid_worker.yaml"
    path.write_text(
        path.read_text().replace("fields: [name, kind, organisation]}", "fields: [name, kind, organisation, phone]}")
    )
    spoilt = folder / "roles" / "committee_staff.yaml"
    spoilt.write_text(spoilt.read_text().replace("residentByIdNumber: {budget: 20}", "residentByIdNumbr: {budget: 20}"))
    _, problems = load_and_check(folder, REGISTRY.domains, REGISTRY.demo_principals, FIELDS)
    assert any("Mediator.phone reads Staff.phone" in p and str(path) in p for p in problems), problems
    assert any("unknown look-up 'residentByIdNumbr' (did you mean residentByIdNumber?)" in p for p in problems)


def test_explain_root_fields_and_their_arguments() -> None:
    policies = load_policies(ROOT / "policies")

    def schema_for(policy: Any) -> Any:
        return build_schema(REGISTRY.domains, policy)._schema

    def said(role: str, target: str) -> str:
        from gateway.policy import Attributes

        return explain(policies, role, [], target, FIELDS, schema_for, Attributes.of(REGISTRY.domains))

    committee = said("committee_staff", "Query.residentByIdNumber")
    assert committee.splitlines()[1] == "allowed" and "20 probes an hour" in committee
    assert said("grid_worker", "Query.residentByIdNumber").splitlines()[1].startswith("denied")
    residents = said("grid_worker", "Query.residents")
    assert "filter: ResidentFilter {area, registrationKind, status, gender, name}" in residents
    assert "registered: absent — tests Resident.registeredAt" in residents
    mediator = said("committee_staff", "Mediator.phone")
    assert mediator.splitlines()[1] == "masked" and "reads Staff.phone" in mediator
    assert said("auditor", "Query.residentStats").splitlines()[1].startswith("denied")
