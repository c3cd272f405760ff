"""Red team 8: the whole-city count kept in one row per table, page sizes written into kept statements,
and the per-request trims (the memoized document hash, the orjson access line, idempotency scope only
where a key is sent, the variables digest of an operation that declares none).

Probed, with every role's token, on SQLite and PostgreSQL:

- Every role's ``totalCount`` of residents, both ways (compiled and resolvers), with and without
  filters that name nothing (an empty filter, area or date range; a blank search is refused),
  equals the number of rows it may list by paging through them; only the city-wide reader reads the
  kept count, and it is the table's count; roles with no resident rows get no count at all.
- The kept count after API writes (a registration approved, one refused, a failed review) and,
  on PostgreSQL, behind the API's back: a writer holding row locks while it waits at commit for the
  commit-order lock, with API writes and audit appends going on meanwhile (no deadlock, exact);
  TRUNCATE while rows of the transaction are still to be counted is refused by PostgreSQL itself, and
  a TRUNCATE (rolled back here) sets the count to the table's.
- Page sizes: only bounded integers reach a LIMIT written into a statement's text (huge, negative,
  non-integer and over-the-limit ``first`` are refused before any statement); distinct statement texts
  grow only with distinct page sizes, at most the largest page allowed.
- The memoized document hash is the hash of that document, whatever else was hashed before it and
  however long it is; access lines stay one JSON line without control characters, line separators,
  invalid UTF-8, tokens or runs of ID-number digits from a caller's operation name or path;
  undeclared variables change neither a compiled answer nor its plan key; an Idempotency-Key replays
  only to the token that wrote the answer, and never for a query (its scope is now taken only then).

Found (fixed in revision 0019 before it landed): on PostgreSQL the deferred trigger changed the count row once per row at
commit, each change a new version of the one row that the next had to walk past (a transaction still
open cannot prune its own versions): a commit as slow as the square of its rows, all of it under the
commit-order lock that every write and every audit append of the gateway takes — 40,000 residents
written in one transaction behind the API's back held it for 28 seconds. Now each row adds to a
number kept for its transaction and the count row changes once, at commit.

Held: every other probe above. Design limits (in the report, not hacked around): a writer at REPEATABLE
READ or SERIALIZABLE that inserts or deletes residents fails at commit whenever another writer changed
the count since its snapshot (the gateway writes at READ COMMITTED only); distinct page sizes make
distinct statement texts, bounded by the largest page and by the driver's per-connection statement
cache (a client cycling through sizes makes the server prepare again, not grow).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from graphql import OperationDefinitionNode, parse
from sqlalchemy.engine import make_url

from gateway.audit import trail
from gateway.compile import variables_key
from gateway.data import statement_log
from gateway.data.order import COMMIT_ORDER_KEY
from resolvers.population.tables import Resident
from tests.harness import Gateway, database_url, running_gateway
from tests.test_compiled_reads import ask
from tests.test_population_workflows import REGISTER, REVIEW_REGISTRATION, new_number, registration
from tests.test_row_counts import _insert, kept_and_counted, resident_row

LISTING = ("city_analyst", "committee_staff", "community_police", "grid_worker")
PAGE = """query($after: String, $filter: ResidentFilter) {
  residents(first: 50, after: $after, filter: $filter) { totalCount pageInfo { hasNextPage endCursor } nodes { id } }
}"""


@pytest.fixture(scope="module")
def red8_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("red8"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def r8(red8_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests write residents, through the API and behind its back."""
    async with running_gateway(*red8_url, residents=150) as gateway:
        yield gateway


async def listed(gw: Gateway, role: str, compiled: bool, filter: dict[str, Any] | None = None) -> tuple[int, int]:
    """The role's totalCount, and the number of rows it pages through."""
    settings = gw.runtime.settings
    before, settings.compiled_reads = settings.compiled_reads, compiled
    try:
        total, seen, after = None, 0, None
        while True:
            data = await gw.query(PAGE, {"after": after, "filter": filter}, role=role)
            page = data["residents"]
            total = page["totalCount"] if total is None else total
            assert page["totalCount"] == total
            seen += len(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                return int(total), seen
            after = page["pageInfo"]["endCursor"]
    finally:
        settings.compiled_reads = before


async def city_total(gw: Gateway, compiled: bool) -> int:
    settings = gw.runtime.settings
    before, settings.compiled_reads = settings.compiled_reads, compiled
    try:
        data = await gw.query("{ residents(first: 1) { totalCount } }", role="city_analyst")
    finally:
        settings.compiled_reads = before
    return int(data["residents"]["totalCount"])


async def assert_exact(gw: Gateway) -> int:
    kept, counted = await kept_and_counted(gw.runtime.databases)
    assert kept == counted
    assert await city_total(gw, True) == await city_total(gw, False) == counted
    return counted


@pytest.mark.parametrize("compiled", [True, False])
async def test_every_role_counts_exactly_the_rows_it_may_list(r8: Gateway, compiled: bool) -> None:
    _, counted = await kept_and_counted(r8.runtime.databases)
    for role in LISTING:
        # An empty date range: only where the role's filter has one (arguments follow reads).
        empty_range: list[dict[str, Any]] = [{"registered": {}}] if role == "city_analyst" else []
        filters: list[dict[str, Any] | None] = [None, {}, {"area": {}}, {"name": None}, *empty_range]
        for filter in filters:
            total, seen = await listed(r8, role, compiled, filter)
            assert total == seen, (role, filter)
            if role == "city_analyst":
                assert total == counted
            else:
                assert 0 < total < counted, (role, filter)
    # A filter that narrows the city reader's rows counts them, not the kept number.
    grid = {"area": {"gridId": "R3JpZDox"}}
    total, seen = await listed(r8, "city_analyst", compiled, grid)
    assert total == seen < counted


async def test_roles_with_no_resident_rows_get_no_count(r8: Gateway) -> None:
    for role in sorted(set(r8.tokens) - set(LISTING)):
        response = await r8.post("{ residents(first: 1) { totalCount } }", role=role)
        body = response.json()
        assert body.get("errors"), (role, body)
        assert not (body.get("data") or {}).get("residents"), (role, body)


async def test_the_count_stays_exact_through_api_registrations_refusals_and_failed_reviews(r8: Gateway) -> None:
    before = await assert_exact(r8)
    approved = 0
    for sequence in range(3):
        sent = registration(new_number(800 + sequence))
        data = await r8.query(REGISTER % "", {"input": sent}, role="grid_worker")
        ident = data["registerResident"]["registration"]["id"]
        decision = "APPROVE" if sequence < 2 else "RETURN"
        extra = {} if decision == "APPROVE" else {"reason": "资料不全"}
        review = {"input": {"registrationId": ident, "decision": decision, **extra}}
        await r8.query(REVIEW_REGISTRATION, review, role="community_police")
        approved += decision == "APPROVE"
        # Reviewed twice: refused, and nothing written.
        again = await r8.post(REVIEW_REGISTRATION, review, role="community_police")
        assert again.json().get("errors")
        # A grid worker may not review at all.
        refused = await r8.post(REVIEW_REGISTRATION, review, role="grid_worker")
        assert refused.json().get("errors")
    assert await assert_exact(r8) == before + approved == before + 2


def _driver_url(gw: Gateway) -> str:
    return make_url(gw.settings.db_url).set(drivername="postgresql").render_as_string(hide_password=False)


async def test_a_writer_holding_row_locks_at_commit_does_not_deadlock_api_writes(r8: Gateway) -> None:
    if r8.backend != "postgres":
        pytest.skip("SQLite has one writer at a time")
    url = _driver_url(r8)
    before = await assert_exact(r8)
    holder, writer = await asyncpg.connect(url), await asyncpg.connect(url)
    try:
        held = holder.transaction()
        await held.start()
        await holder.execute("SELECT pg_advisory_xact_lock($1)", COMMIT_ORDER_KEY)
        written = writer.transaction()
        await written.start()
        # A row lock on a resident, and one resident more: its count waits for the commit.
        await writer.execute("UPDATE resident SET version = version WHERE id = (SELECT min(id) FROM resident)")
        await writer.execute(_insert(8601, 1))
        committing = asyncio.create_task(written.commit())
        # API writes (an event, an audit record, a resident) queue at the lock as well.
        sent = registration(new_number(850))
        registering = asyncio.create_task(r8.query(REGISTER % "", {"input": sent}, role="grid_worker"))
        await asyncio.sleep(0.5)
        assert not committing.done() and not registering.done()
        await held.rollback()
        await asyncio.wait_for(committing, 10)
        data = await asyncio.wait_for(registering, 10)
        ident = data["registerResident"]["registration"]["id"]
        # The approval writes the resident a row lock of the first writer no longer holds.
        review = {"input": {"registrationId": ident, "decision": "APPROVE"}}
        await asyncio.wait_for(r8.query(REVIEW_REGISTRATION, review, role="community_police"), 10)
    finally:
        await holder.close()
        await writer.close()
    assert await assert_exact(r8) == before + 2


async def test_truncate_is_refused_with_rows_still_to_count_and_counts_zero_otherwise(r8: Gateway) -> None:
    if r8.backend != "postgres":
        pytest.skip("PostgreSQL's TRUNCATE trigger")
    before = await assert_exact(r8)
    conn = await asyncpg.connect(_driver_url(r8))
    try:
        with pytest.raises(asyncpg.ObjectInUseError):
            async with conn.transaction():
                await conn.execute(_insert(8602, 1))
                await conn.execute("TRUNCATE resident CASCADE")
        emptied = conn.transaction()
        await emptied.start()
        await conn.execute("TRUNCATE resident CASCADE")
        kept = await conn.fetchval("SELECT n FROM population_row_count WHERE table_name = 'resident'")
        assert (kept, await conn.fetchval("SELECT count(*) FROM resident")) == (0, 0)
        await emptied.rollback()
    finally:
        await conn.close()
    assert await assert_exact(r8) == before


PAGE_SIZES = "query($n: Int) { residents(first: $n) { totalCount nodes { id } } }"


async def test_only_bounded_integers_reach_a_written_page_size(r8: Gateway) -> None:
    log: list[str] = []
    token = statement_log.set(log)
    try:
        for bad in (10**12, -1, 2**31, 101, "1; DROP TABLE resident", 1.5, "1e3"):
            response = await r8.post(PAGE_SIZES, {"n": bad}, role="city_analyst")
            assert response.json().get("errors"), bad
        assert not any("resident" in s for s in log), log
        for n in (0, 1, 7, 100):
            data = await r8.query(PAGE_SIZES, {"n": n}, role="city_analyst")
            assert len(data["residents"]["nodes"]) == n
        for n in (1, 7):
            # The same size again reads the same statement text.
            await r8.query(PAGE_SIZES, {"n": n}, role="city_analyst")
    finally:
        statement_log.reset(token)
    texts = {s for s in log if "resident" in s}
    if r8.backend == "postgres":
        limits = {int(found) for s in texts for found in _limits(s)}
        # Each size read one statement text, whatever the number of times: three sizes that read rows,
        # three texts (a page of none reads the kept count alone).
        assert limits == {2, 8, 101}, limits
        assert len(texts) == 3, texts
    # A household page over a grid worker's limit (50) is refused, compiled or not.
    for compiled in (True, False):
        answer = await ask(r8, "{ households(first: 51) { nodes { id } } }", "grid_worker", compiled)
        assert answer.body.get("errors"), answer.body


def _insert_number(number: int) -> str:
    return str(resident_row(number, 1)["id_number"])


def _limits(sql: str) -> list[str]:
    return re.findall(r"LIMIT (\d+)", sql)


async def test_undeclared_variables_change_neither_the_answer_nor_the_plan_key(r8: Gateway) -> None:
    query = "{ residents(first: 2) { totalCount nodes { id name } } }"
    plain = await r8.post(query, None, role="grid_worker")
    noisy = await r8.post(query, {"first": 50, "after": "x", "filter": {"name": "张"}}, role="grid_worker")
    assert plain.json() == noisy.json()
    [definition] = parse(query).definitions
    assert isinstance(definition, OperationDefinitionNode)
    assert variables_key(definition, None) == variables_key(definition, {"first": 50})
    declared = parse("query($n: Int) { residents(first: $n) { totalCount } }").definitions[0]
    assert isinstance(declared, OperationDefinitionNode)
    assert variables_key(declared, {"n": 1}) == variables_key(declared, {"n": 1, "other": 2})
    assert variables_key(declared, {"n": 1}) != variables_key(declared, {"n": 2})
    # The compiler keeps one plan for the operation, however many undeclared variables are sent.
    plans = r8.runtime.compiler._plans
    before = len(plans)
    for n in range(5):
        await r8.post(query, {"first": n, f"junk{n}": "x"}, role="grid_worker")
    assert len(plans) == before


def test_the_memoized_document_hash_is_always_that_documents_own() -> None:
    texts = [f'{{ residents(first: {n}) {{ nodes {{ id name }} }} }} # "{n}"' for n in range(700)]
    texts += ["{ a: residents(first: 1) { totalCount } }", "{ " + "x " * 5000 + "}"]
    first = [trail.operation_hash(text) for text in texts]
    # Asked again, in another order, after the memo has dropped and kept others: the same hashes.
    again = [trail.operation_hash(text) for text in reversed(texts)]
    assert first == list(reversed(again))
    assert first == [trail._shape_hash(text) for text in texts]
    # Documents differing only in inline values share a shape (by design); others do not.
    assert trail.operation_hash('{ r(id: "1") }') == trail.operation_hash('{ r(id: "2") }')
    assert trail.operation_hash("{ a }") != trail.operation_hash("{ b }")


async def test_an_access_line_holds_no_control_character_digit_run_or_token(
    r8: Gateway, access_lines: list[str]
) -> None:
    token = r8.tokens["grid_worker"]
    headers = {"Authorization": f"Bearer {token}"}
    # What a caller writes into a line: its operation's name (a GraphQL name) and the path.
    for name in ("Q120101199001011234", "Q13812345678", "Qplain"):
        await r8.post(f"query {name} {{ __typename }}", role="grid_worker")
    for path in ("/graphql%0A%7B%22forged%22%3A1%7D", "/x%E2%80%A8y%1B%5B31m", "/%ED%A0%80", "/120101199001011234"):
        await r8.client.get(path, headers=headers)
    lines = [line for line in access_lines if '"gateway.access"' in line]
    assert len(lines) == 7, access_lines
    for line in lines:
        assert "\n" not in line and "\u001b" not in line and "\u2028" not in line and " " not in line
        assert "forged" not in line or '"forged"' not in line
        assert "1234" not in line and "5678" not in line and token not in line
        parsed = json.loads(line)
        for value in parsed.values():
            assert all(ch.isprintable() and not ch.isspace() for ch in str(value)), line
    assert any(json.loads(line).get("operation") == "Qplain" for line in lines)


async def test_a_large_write_holds_the_commit_order_lock_for_a_moment_not_for_the_square_of_its_rows(
    r8: Gateway,
) -> None:
    """Found: the count was changed once per row at commit, each change a new version of the one count row
    that the next had to walk past (versions of an open transaction cannot be pruned): a transaction of
    40,000 residents held the commit-order lock — every write and every audit append of the gateway —
    for 28 seconds at its commit. Now each row adds to a number kept for the transaction, and the count
    row is changed once, at commit."""
    if r8.backend != "postgres":
        pytest.skip("SQLite's triggers change the count at once, in place")
    before = await assert_exact(r8)
    conn = await asyncpg.connect(_driver_url(r8))
    rows = 30_000
    try:
        # Counted at once where the count is made immediate: each row added before it is counted.
        async with conn.transaction():
            await conn.execute("SET CONSTRAINTS ALL IMMEDIATE")
            await conn.execute(_insert(8603, 1))
            await conn.execute(_insert(8604, 1))
            await conn.execute("DELETE FROM resident WHERE id_number = $1", _insert_number(8604))
        copied = ", ".join(c.key for c in Resident.__table__.columns if c.key not in ("id", "id_number"))
        written = conn.transaction()
        await written.start()
        await conn.execute(
            f"INSERT INTO resident (id_number, {copied}) SELECT 'red8-' || g, {copied}"
            f" FROM generate_series(1, {rows}) g, (SELECT * FROM resident ORDER BY id LIMIT 1) r"
        )
        # A savepoint rolled back takes its rows' counting with it.
        async with conn.transaction():
            await conn.execute("DELETE FROM resident WHERE id_number = 'red8-1'")
        with contextlib.suppress(RuntimeError):
            async with conn.transaction():
                await conn.execute("DELETE FROM resident WHERE id_number LIKE 'red8-2%'")
                raise RuntimeError("rolled back")
        started = time.perf_counter()
        await written.commit()
        held = time.perf_counter() - started
    finally:
        await conn.close()
    assert await assert_exact(r8) == before + rows
    assert held < 2.0, f"the commit of {rows} rows took {held:.1f} s under the commit-order lock"


async def test_a_key_replays_only_to_the_token_that_wrote_it_and_never_for_a_query(r8: Gateway) -> None:
    sent = {"input": registration(new_number(870), clientMutationId="red8-key")}
    key = {"Idempotency-Key": "red8-replay"}
    first = await r8.post(REGISTER % "", sent, role="grid_worker", headers=key)
    again = await r8.post(REGISTER % "", sent, role="grid_worker", headers=key)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    # Another role's token, the same key and body: never handed the first one's answer.
    other = await r8.post(REGISTER % "", sent, role="community_police", headers=key)
    assert other.headers.get("Idempotent-Replayed") is None
    assert other.json() != first.json()
    # A query sent with a key is read afresh each time: keys are for mutations.
    query = "{ residents(first: 1) { totalCount } }"
    for _ in range(2):
        read = await r8.post(query, role="grid_worker", headers=key)
        assert read.headers.get("Idempotent-Replayed") is None
        assert "errors" not in read.json()
