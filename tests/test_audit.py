"""The audit trail: hash-chained, append-only, verifiable, readable by the auditor, and free of citizen data."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import strawberry
from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from gateway.audit import (
    AUDIT_DOMAIN,
    GENESIS_HASH,
    AuditEntry,
    AuditQuery,
    AuditRecord,
    AuditTrail,
    GroupCommit,
    chain_hash,
    operation_hash,
)
from gateway.data import Databases, create_engine, decode_id, migrate
from gateway.kernel import Settings
from tests.harness import SECRET, Gateway, database_url
from tests.harness import test_settings as settings_for

AUDIT_TABLES = ("gateway_audit", "gateway_audit_head", "gateway_audit_touch")


@pytest.fixture(scope="module")
def audit_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of the trail's own, so that breaking its chain disturbs no other test."""
    backend, _ = backend_url
    with database_url(backend, tmp_path_factory.mktemp(f"audit-{backend}")) as url:
        migrate.upgrade(settings_for(url))
        yield url


@asynccontextmanager
async def behind_the_triggers(url: str) -> AsyncIterator[AsyncConnection]:
    """A connection with the append-only triggers off, as only the database's owner could have it."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                for table in AUDIT_TABLES:
                    await connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
                yield connection
                for table in AUDIT_TABLES:
                    await connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER USER")
            else:
                listed = "', '".join(AUDIT_TABLES)
                found = await connection.exec_driver_sql(
                    f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('{listed}')"
                )
                triggers = [(str(row.name), str(row.sql)) for row in found]
                for name, _ in triggers:
                    await connection.exec_driver_sql(f"DROP TRIGGER {name}")
                try:
                    yield connection
                finally:
                    for _, sql in triggers:
                        await connection.exec_driver_sql(sql)
    finally:
        await engine.dispose()


async def _sql(url: str, statement: str, **params: Any) -> None:
    async with behind_the_triggers(url) as connection:
        await connection.execute(text(statement), params)


@pytest.fixture
async def trail(audit_url: str) -> AsyncIterator[AuditTrail]:
    """An empty trail (emptied behind the triggers' back) on each backend."""
    await _sql(audit_url, "DELETE FROM gateway_audit")
    await _sql(audit_url, "DELETE FROM gateway_audit_touch")
    await _sql(audit_url, "UPDATE gateway_audit_head SET seq = 0, hash = :genesis", genesis=GENESIS_HASH)
    databases = Databases(settings_for(audit_url), (AUDIT_DOMAIN,))
    try:
        yield AuditTrail(databases)
    finally:
        await databases.dispose()


def entry(n: int = 0, **changes: Any) -> AuditEntry:
    query = f"query Residents{n} {{ residents {{ nodes {{ id idNumber name }} }} }}"
    made = AuditEntry(
        principal_id="police.demo",
        role="community_police",
        agency="河东分局大王庄派出所",
        purpose="核查来访登记 / checking a visitor registration",
        operation_name=f"Residents{n}",
        operation_hash=operation_hash(query),
        operation_type="query",
        policy_version="test",
        fields=("Resident.name", "Resident.idNumber"),
        row_ids={"Resident": (n + 2, n + 1)},
    )
    return replace(made, **changes)


async def _fill(trail: AuditTrail, n: int) -> None:
    for i in range(n):
        await trail.append(entry(i))


# --- the chain --------------------------------------------------------------------------


async def test_concurrent_appends_form_one_contiguous_chain(trail: AuditTrail) -> None:
    seqs = await asyncio.gather(*(trail.append(entry(i)) for i in range(20)))
    assert sorted(seqs) == list(range(1, 21))
    report = await trail.verify()
    assert report.ok and report.count == 20, report.describe()
    assert report.describe() == "audit trail intact: 20 records"


async def test_concurrent_appends_are_committed_in_groups_each_caller_waiting_for_its_own(trail: AuditTrail) -> None:
    commits: list[int] = []
    engine = trail._databases.engine(AUDIT_DOMAIN).sync_engine
    listener = lambda *_: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    try:
        seqs = await asyncio.gather(*(trail.append(entry(i)) for i in range(40)))
    finally:
        event.remove(engine, "commit", listener)
    assert sorted(seqs) == list(range(1, 41))
    assert len(commits) < 40 / 4, f"{len(commits)} commits for 40 records: appends were not grouped"
    records = await trail.tail(40)
    assert [r.operation_name for r in records] == [f"Residents{i}" for i in range(40)], "each caller got its own seq"
    assert (await trail.verify()).ok


async def test_a_group_that_fails_tells_each_of_its_callers_and_the_next_group_is_written() -> None:
    written: list[list[str | None]] = []

    async def write(entries: list[AuditEntry]) -> list[int]:
        await asyncio.sleep(0)
        if any(e.operation_name == "Broken" for e in entries):
            raise RuntimeError("the trail's database refused")
        written.append([e.operation_name for e in entries])
        return [len(written) * 100 + n for n in range(len(entries))]

    group = GroupCommit(write)
    first = asyncio.ensure_future(group.submit(entry(1)))
    await asyncio.sleep(0)  # the first group is under way; the next two wait and go in together
    results = await asyncio.gather(
        group.submit(entry(2)), group.submit(entry(3, operation_name="Broken")), return_exceptions=True
    )
    assert await first == 100
    assert all(isinstance(result, RuntimeError) for result in results), results
    assert await group.submit(entry(4)) == 200
    assert written == [["Residents1"], ["Residents4"]]


async def test_appenders_with_their_own_connections_take_turns(trail: AuditTrail, audit_url: str) -> None:
    # Separate engines and locks, as separate worker processes would have: only the database orders them.
    others = [Databases(settings_for(audit_url), (AUDIT_DOMAIN,)) for _ in range(3)]
    try:
        trails = [AuditTrail(d) for d in others]
        seqs = await asyncio.gather(*(t.append(entry(i)) for i in range(8) for t in trails))
    finally:
        for databases in others:
            await databases.dispose()
    assert sorted(seqs) == list(range(1, 25))
    report = await trail.verify()
    assert report.ok and report.count == 24, report.describe()


async def test_an_empty_trail_is_intact(trail: AuditTrail) -> None:
    report = await trail.verify()
    assert report.ok and report.count == 0


async def test_changed_content_is_named_tampered(trail: AuditTrail, audit_url: str) -> None:
    await _fill(trail, 5)
    await _sql(audit_url, "UPDATE gateway_audit SET principal_id = 'someone.else' WHERE seq = 3")
    report = await trail.verify()
    assert (report.ok, report.problem, report.seq, report.count) == (False, "tampered", 3, 2)
    assert report.describe() == "audit trail broken at record 3: its content does not match its hash"


async def test_a_record_rehashed_after_a_change_breaks_the_next_link(trail: AuditTrail, audit_url: str) -> None:
    await _fill(trail, 5)
    third = (await trail.tail(5))[2]
    forged = AuditRecord(**{c.key: getattr(third, c.key) for c in AuditRecord.__table__.columns})
    forged.fields = '["Resident.name"]'
    await _sql(
        audit_url,
        "UPDATE gateway_audit SET fields = :fields, hash = :hash WHERE seq = 3",
        fields=forged.fields,
        hash=chain_hash(forged),
    )
    report = await trail.verify()
    assert (report.problem, report.seq) == ("broken", 4)
    assert "prev_hash is not the hash of record 3" in report.reason


async def test_a_changed_link_is_named_broken(trail: AuditTrail, audit_url: str) -> None:
    await _fill(trail, 5)
    await _sql(audit_url, "UPDATE gateway_audit SET prev_hash = :other WHERE seq = 3", other="f" * 64)
    report = await trail.verify()
    assert (report.problem, report.seq, report.count) == ("broken", 3, 2)


@pytest.mark.parametrize("gone", [1, 3, 5])
async def test_a_deleted_record_is_named_missing(trail: AuditTrail, audit_url: str, gone: int) -> None:
    await _fill(trail, 5)
    await _sql(audit_url, "DELETE FROM gateway_audit WHERE seq = :seq", seq=gone)
    report = await trail.verify()
    assert (report.problem, report.seq, report.count) == ("missing", gone, gone - 1), report.describe()
    assert f"record {gone} is missing" in report.reason


async def test_sql_cannot_change_or_remove_records(trail: AuditTrail, audit_url: str) -> None:
    await _fill(trail, 2)
    refused = [
        "UPDATE gateway_audit SET role = 'auditor'",
        "DELETE FROM gateway_audit WHERE seq = 2",
        f"UPDATE gateway_audit_head SET seq = 1, hash = '{GENESIS_HASH}'",
        "DELETE FROM gateway_audit_head",
    ]
    engine = create_engine(audit_url)
    try:
        if engine.dialect.name == "postgresql":
            refused += ["TRUNCATE gateway_audit", "TRUNCATE gateway_audit_head"]
        for statement in refused:
            with pytest.raises(DBAPIError, match=r"append-only|only moves forward"):
                async with engine.begin() as connection:
                    await connection.execute(text(statement))
    finally:
        await engine.dispose()
    report = await trail.verify()
    assert report.ok and report.count == 2


async def test_appends_continue_the_chain_after_a_restart(trail: AuditTrail, audit_url: str) -> None:
    await _fill(trail, 2)
    restarted = Databases(settings_for(audit_url), (AUDIT_DOMAIN,))
    try:
        assert await AuditTrail(restarted).append(entry(9)) == 3
    finally:
        await restarted.dispose()
    assert (await trail.verify()).count == 3


# --- what a record holds ----------------------------------------------------------------


async def test_a_record_holds_names_and_ids_never_values(gw: Gateway, trail: AuditTrail, audit_url: str) -> None:
    query = "query Lookup { residents(first: 1) { nodes { id idNumber name phone } } }"
    resident = (await gw.query(query))["residents"]["nodes"][0]
    number, name, phone = resident["idNumber"], resident["name"], resident["phone"]
    assert len(number) == 18 and "*" not in number
    # What the gateway records for that query, with a purpose that quotes the ID number.
    seq = await trail.append(
        entry(
            purpose=f"核查 {number} 的登记,电话 {phone}",
            operation_name="Lookup",
            operation_hash=operation_hash(query),
            fields=("Resident.idNumber", "Resident.name", "Resident.phone"),
            row_ids={"Resident": (decode_id(resident["id"])[1],)},
        )
    )
    engine = create_engine(audit_url)
    try:
        async with engine.connect() as connection:
            row = (await connection.execute(text("SELECT * FROM gateway_audit WHERE seq = :s"), {"s": seq})).one()
    finally:
        await engine.dispose()
    stored = " ".join(str(value) for value in row)
    assert number not in stored and number[:11] not in stored and number[-11:] not in stored
    assert name not in stored and phone not in stored
    assert "Resident.idNumber" in stored and str(decode_id(resident["id"])[1]) in row.row_ids
    assert row.purpose == "核查 *** 的登记,电话 ***"
    assert (await trail.verify()).ok


# --- reading it -------------------------------------------------------------------------


@dataclass
class AuditorContext:
    """As much of the request context as ``auditLog`` reads."""

    settings: Settings
    audit: AuditTrail | None


AUDIT_SCHEMA = strawberry.Schema(query=AuditQuery)
AUDIT_LOG = """
query($first: Int, $after: String, $filter: AuditFilter) {
  auditLog(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      seq recordedAt principalId role agency purpose operationName operationHash operationType
      policyVersion fields rowIds { type ids } redacted denied outcome hash prevHash
    }
  }
}
"""


async def _audit_log(trail: AuditTrail | None, audit_url: str, **variables: Any) -> Any:
    context = AuditorContext(settings_for(audit_url), trail)
    result = await AUDIT_SCHEMA.execute(AUDIT_LOG, variable_values=variables, context_value=context)
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data["auditLog"]


async def test_audit_log_pages_in_order_and_filters(trail: AuditTrail, audit_url: str) -> None:
    await trail.append(entry(0))
    await trail.append(entry(1, principal_id="grid.demo", role="grid_worker", outcome="denied", denied=("x",)))
    await trail.append(entry(2, redacted=("disputes.nodes.0.parties.1.phone",)))

    first = await _audit_log(trail, audit_url, first=2)
    assert [n["seq"] for n in first["nodes"]] == [1, 2] and first["totalCount"] == 3
    assert first["pageInfo"]["hasNextPage"]
    rest = await _audit_log(trail, audit_url, first=2, after=first["pageInfo"]["endCursor"])
    assert [n["seq"] for n in rest["nodes"]] == [3] and not rest["pageInfo"]["hasNextPage"]

    record = first["nodes"][0]
    assert record["rowIds"] == [{"type": "Resident", "ids": [1, 2]}]
    assert record["fields"] == ["Resident.idNumber", "Resident.name"]
    assert record["outcome"] == "OK" and record["operationType"] == "query"
    assert record["prevHash"] == GENESIS_HASH and first["nodes"][1]["prevHash"] == record["hash"]
    assert record["recordedAt"].endswith("+00:00")

    denied = await _audit_log(trail, audit_url, filter={"outcome": "DENIED", "role": "grid_worker"})
    assert [n["seq"] for n in denied["nodes"]] == [2] and denied["totalCount"] == 1
    assert denied["nodes"][0]["denied"] == ["x"]
    by_name = await _audit_log(trail, audit_url, filter={"operationName": "Residents2", "principalId": "police.demo"})
    assert [n["seq"] for n in by_name["nodes"]] == [3]
    today = record["recordedAt"][:10]
    assert (await _audit_log(trail, audit_url, filter={"recorded": {"since": today}}))["totalCount"] == 3
    assert (await _audit_log(trail, audit_url, filter={"recorded": {"until": "2000-01-01"}}))["totalCount"] == 0


async def test_audit_log_without_a_trail_says_so(audit_url: str) -> None:
    context = AuditorContext(settings_for(audit_url), None)
    result = await AUDIT_SCHEMA.execute("{ auditLog { totalCount } }", context_value=context)
    assert result.errors and "not enabled" in result.errors[0].message


async def test_only_the_auditor_can_ask_for_the_audit_log(gw: Gateway) -> None:
    query = "{ auditLog(first: 1) { totalCount nodes { seq principalId } } }"
    assert (await gw.query(query, role="auditor"))["auditLog"]["totalCount"] >= 0
    for role in ("city_analyst", "community_police"):
        errors = await gw.errors(query, role=role)
        assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


# --- the command ------------------------------------------------------------------------


def _cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, GATEWAY_DB_URL=url, GATEWAY_SECRET_KEY=SECRET)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "audit", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parent.parent,
    )


async def test_cli_verify_exit_codes_and_tail(trail: AuditTrail, audit_url: str) -> None:
    await _fill(trail, 3)
    intact = await asyncio.to_thread(_cli, audit_url, "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.strip() == "audit trail intact: 3 records"

    tail = await asyncio.to_thread(_cli, audit_url, "tail", "-n", "2")
    lines = tail.stdout.strip().splitlines()
    assert tail.returncode == 0 and [line.split()[0] for line in lines] == ["2", "3"]
    assert "police.demo" in lines[0] and "Resident.idNumber" in lines[0] and "Resident×2" in lines[0]

    await _sql(audit_url, "UPDATE gateway_audit SET outcome = 'error' WHERE seq = 2")
    broken = await asyncio.to_thread(_cli, audit_url, "verify")
    assert broken.returncode == 1
    assert broken.stderr.strip() == "audit trail broken at record 2: its content does not match its hash"
    assert "Traceback" not in broken.stderr


async def test_an_anchor_catches_a_cut_tail_and_a_replaced_chain(
    trail: AuditTrail, audit_url: str, tmp_path: Path
) -> None:
    await _fill(trail, 4)
    taken = await asyncio.to_thread(_cli, audit_url, "anchor")
    assert taken.returncode == 0, taken.stderr
    anchor = json.loads(taken.stdout)
    assert anchor["seq"] == 4 and anchor["hash"] == (await trail.head())[1] and anchor["signature"]
    path = tmp_path / "anchor.json"
    path.write_text(taken.stdout)

    await _fill(trail, 1)
    intact = await asyncio.to_thread(_cli, audit_url, "verify", "--anchor", str(path))
    assert intact.returncode == 0, intact.stderr
    assert "anchor at record 4 matches" in intact.stdout

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**anchor, "seq": 3}))
    refused = await asyncio.to_thread(_cli, audit_url, "verify", "--anchor", str(forged))
    assert refused.returncode == 1 and "not signed with this gateway's audit key" in refused.stderr

    # Cut the last three records and move the head back: the chain itself still verifies.
    async with behind_the_triggers(audit_url) as connection:
        await connection.exec_driver_sql("DELETE FROM gateway_audit WHERE seq >= 3")
        prior = (await connection.exec_driver_sql("SELECT hash FROM gateway_audit WHERE seq = 2")).scalar_one()
        await connection.exec_driver_sql(f"UPDATE gateway_audit_head SET seq = 2, hash = '{prior}'")
    assert (await trail.verify()).ok
    cut = await asyncio.to_thread(_cli, audit_url, "verify", "--anchor", str(path))
    assert cut.returncode == 1
    assert "shorter than the anchor" in cut.stderr and "ends at record 2" in cut.stderr
    assert "Traceback" not in cut.stderr

    # Refill to beyond the anchor with other records: the chain verifies, the anchor does not.
    await _fill(trail, 3)
    assert (await trail.verify()).ok
    replaced = await asyncio.to_thread(_cli, audit_url, "verify", "--anchor", str(path))
    assert replaced.returncode == 1 and "diverges from the anchor" in replaced.stderr
