"""No N+1: a nested page costs the same number of SQL statements whatever its size."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.data import statement_log
from tests.harness import Gateway, database_url, running_gateway

NESTED = """
query Nested($n: Int!) {
  grids(first: $n) {
    totalCount
    nodes {
      name
      residents(first: $n) {
        totalCount
        nodes {
          name
          disputes(first: $n) { totalCount nodes { title parties { role resident { name } } } }
        }
      }
    }
  }
}
"""


@pytest.fixture(scope="module")
def populous_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("populous"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def populous(populous_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """The demo data plus synthetic residents, so that a page of 100 holds more than a page of 5."""
    async with running_gateway(*populous_url, residents=600) as gateway:
        # Principals held as at steady state: which of authentication's look-ups a request runs then
        # depends only on what was read before it, not on a cache's second expiring between two requests.
        gateway.runtime.authenticator.cache_seconds = 60.0
        yield gateway


async def test_nested_page_statement_count_is_independent_of_page_size(populous: Gateway) -> None:
    await populous.count_statements(NESTED, {"n": 1})  # the token is read once, then held live
    small_count, small = await populous.count_statements(NESTED, {"n": 5})
    large_count, large = await populous.count_statements(NESTED, {"n": 100})

    def residents(data: dict) -> int:  # type: ignore[type-arg]
        return sum(len(g["residents"]["nodes"]) for g in data["grids"]["nodes"])

    assert len(large["grids"]["nodes"]) > len(small["grids"]["nodes"])
    assert residents(large) > residents(small)
    assert small_count == large_count, (small_count, large_count)
    # the principal's look-ups (uncached in tests); grids page + count, residents page + count,
    # disputes page + count, parties, the parties' residents; the audit record's append (head, insert)
    assert large_count <= 13


def is_audit(statement: str) -> bool:
    """A statement of the audit record's append (PostgreSQL: the one call; SQLite: the head, its insert)."""
    return "gateway_audit" in statement


GRID_PAGE = "{ residents(first: 20) { totalCount nodes { id name address ageBand household { number } } } }"


async def statements_of(
    gateway: Gateway, query: str, role: str, compiled: bool = True, variables: dict[str, int] | None = None
) -> list[str]:
    log: list[str] = []
    settings = gateway.runtime.settings
    before, settings.compiled_reads = settings.compiled_reads, compiled
    token = statement_log.set(log)
    try:
        response = await gateway.post(query, variables, role=role)
    finally:
        statement_log.reset(token)
        settings.compiled_reads = before
    assert "errors" not in response.json(), response.json()
    return log


async def test_the_grid_workers_page_reads_its_data_in_one_statement(populous: Gateway) -> None:
    """The page's rows, masks, household links and count come from one statement; the rest of the
    request is authentication (token, principal, area) and the audit record's append."""
    await statements_of(populous, "{ __typename }", "grid_worker")  # the token is read once, then held live
    page = await statements_of(populous, GRID_PAGE, "grid_worker")
    authentication = await statements_of(populous, "{ __typename }", "grid_worker")
    audit = [s for s in page if is_audit(s)]
    data = [s for s in page if s not in authentication and s not in audit]
    assert len(data) == 1, data
    assert "json" in data[0].lower()
    assert len(page) == len(authentication) + len(data) + len(audit)
    resolvers = await statements_of(populous, GRID_PAGE, "grid_worker", compiled=False)
    assert len(resolvers) - len(authentication) - len(audit) == 3  # page, count, households


async def test_the_grid_workers_page_costs_at_most_three_statements(populous: Gateway) -> None:
    """At steady state (the principal held for ``GATEWAY_PRINCIPAL_CACHE_SECONDS``, the token held
    live until a revocation), a page is its data statement and the audit append: one statement on
    PostgreSQL (lock, head, hashes and insert in one call, revision 0016), two on SQLite (head, insert)."""
    authenticator = populous.runtime.authenticator
    before, authenticator.cache_seconds = authenticator.cache_seconds, 60.0
    try:
        await statements_of(populous, GRID_PAGE, "grid_worker")
        page = await statements_of(populous, GRID_PAGE, "grid_worker")
    finally:
        authenticator.cache_seconds = before
    appends = 1 if populous.backend == "postgres" else 2
    assert len(page) <= 1 + appends, page
    assert len([s for s in page if is_audit(s)]) == appends, page


async def test_compiled_nested_page_statements_are_one_per_link_level(populous: Gateway) -> None:
    await statements_of(populous, "{ __typename }", "city_analyst")  # the token is read once, then held live
    small = await statements_of(populous, NESTED, "city_analyst", variables={"n": 5})
    large = await statements_of(populous, NESTED, "city_analyst", variables={"n": 100})
    authentication = await statements_of(populous, "{ __typename }", "city_analyst")
    audit = [s for s in large if is_audit(s)]
    assert len(small) == len(large)
    # grids (with their count), residents, disputes, parties, the parties' residents
    assert len(large) - len(authentication) - len(audit) == 5
    if populous.backend == "postgres":
        # Each link level is one statement text whatever its parents: built and compiled once per plan,
        # its parent keys one array parameter, so one prepared statement (SQLite expands an IN list).
        # Its page size is written in its text, so that PostgreSQL can plan it once for all its runs.
        def sized(statements: list[str]) -> list[str]:
            return [re.sub(r"LIMIT \d+", "LIMIT n", s) for s in statements]

        links = [s for s in sized(large) if s not in sized(small)]
        assert links == [], links
        assert all(re.search(r"LIMIT (\$|:)", s) is None for s in large), large
        assert any("LIMIT 101" in s for s in large) and any("LIMIT 6" in s for s in small)


@pytest.mark.parametrize("compiled", [True, False])
async def test_counts_are_plain_counts_of_the_scoped_rows(populous: Gateway, compiled: bool) -> None:
    """``count(*)`` where no join can read a row twice: a distinct count is what grows with the city."""
    query = "{ grids(first: 2) { totalCount nodes { residents(first: 2) { totalCount } } } }"
    log = await statements_of(populous, query, "city_analyst", compiled=compiled)
    counting = [s.lower() for s in log if "count(" in s.lower()]
    assert counting and all("count(distinct" not in s for s in counting), counting
    # Through a pairing table (a resident's disputes), a dispute paired twice is still counted once.
    query = "{ residents(first: 5) { nodes { disputes(first: 1) { totalCount } } } }"
    log = await statements_of(populous, query, "city_analyst", compiled=compiled)
    assert any("count(distinct" in s.lower() for s in log)


TASK_LIST = "{ myTasks(first: 20) { totalCount nodes { kind title urgency createdAt subjectId } } }"


@pytest.mark.parametrize("role", ["community_police", "committee_staff", "grid_worker"])
async def test_a_task_list_is_one_page_and_one_count_per_database(populous: Gateway, role: str) -> None:
    """Every kind of task a role gets is read in one UNION ALL, and counted in one statement."""
    await statements_of(populous, "{ __typename }", role)
    page = await statements_of(populous, TASK_LIST, role)
    authentication = await statements_of(populous, "{ __typename }", role)
    data = [s for s in page if s not in authentication and not is_audit(s)]
    assert len(data) == 2, data
    pages, counts = data
    assert pages.lower().count("union all") >= 1, pages  # the role gets more than one kind of task
    assert counts.lower().count("count(") >= 2, counts
    if populous.backend == "postgres":
        # A kind's states are written into the text (the same for every principal), so that PostgreSQL
        # plans the kept statements once: as parameters, it planned them afresh on every run.
        assert "status IN ('" in pages + counts, pages
        assert re.search(r"status IN \(\$", pages + counts) is None, pages


STATS = """{ residentStats { total byAgeBand { key count } byRegistrationKind { key count } byGender { key count } }
  disputeStats { total byCategory { key count } byStatus { key count } } }"""


async def test_a_statistic_is_one_statement_and_each_grouping_counts_as_alone(populous: Gateway) -> None:
    """Every dimension of a statistic is counted in one statement (a UNION ALL of its groupings): each
    must count exactly what a grouping of its own counts, for every kind of column (an expression, enums)."""
    from sqlalchemy import func, select

    from resolvers.dispute import tables as d
    from resolvers.population import tables as p
    from resolvers.population.stats import _band_of_birth_year

    await statements_of(populous, STATS, "city_analyst")  # the token is read once, then held live
    authentication = await statements_of(populous, "{ __typename }", "city_analyst")
    log = await statements_of(populous, STATS, "city_analyst")
    assert len([s for s in log if not is_audit(s)]) - len(authentication) == 2, log  # one per statistic
    data = (await populous.post(STATS, role="city_analyst")).json()["data"]

    async def alone(model: Any, column: Any, label: Any = str) -> list[dict[str, Any]]:
        async with populous.runtime.databases.session(str(model.__domain__)) as session:
            rows = (await session.execute(select(column, func.count()).select_from(model).group_by(column))).all()
        merged: dict[str, int] = {}
        for value, n in rows:
            key = label(value)
            merged[key] = merged.get(key, 0) + n
        return [{"key": k, "count": n} for k, n in sorted(merged.items())]

    residents, disputes = data["residentStats"], data["disputeStats"]
    year = func.extract("year", p.Resident.birth_date)
    assert residents["byAgeBand"] == await alone(p.Resident, year, _band_of_birth_year)
    assert residents["byRegistrationKind"] == await alone(p.Resident, p.Resident.registration_kind)
    assert residents["byGender"] == await alone(p.Resident, p.Resident.gender)
    assert disputes["byCategory"] == await alone(d.Dispute, d.Dispute.category)
    assert disputes["byStatus"] == await alone(d.Dispute, d.Dispute.status)
    assert residents["total"] == sum(b["count"] for b in residents["byGender"]) > 600
