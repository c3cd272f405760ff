"""The chain made in the database (PostgreSQL, revision 0016): the same hashes as ``chain_hash``, the
commit-order lock taken before anything is numbered and held for one statement and the commit, and a
write that fails after its record's append leaving neither."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any, cast

import pytest
from sqlalchemy import func, select, text

from gateway.audit import AUDIT_DOMAIN, AuditRecord, AuditTrail, chain_hash
from gateway.audit.probes import Probe
from gateway.audit.trail import _append_statement, _for_database, _values, canonical, content
from gateway.data import COMMIT_ORDER_KEY, commit_order_ride, statement_log
from resolvers.dispute import tables as t
from tests.harness import Gateway, postgres_database, running_gateway
from tests.test_audit import audit_url, entry, trail
from tests.test_audit_writes import _input as _report

__all__ = ["audit_url", "trail"]  # fixtures, used by name

REPORT = """
mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id } }
}
"""


def awkward_entries() -> list[Any]:
    """Records whose canonical JSON escapes, nests and leaves out: non-ASCII, quotes and backslashes,
    nulls, a nested key named ``seq``, probes, and the columns added after revision 0007 left empty."""
    probe = Probe("residents", "Query.residents", (("filter.idNumber", "9f" * 32), ("id", "ab" * 32)))
    return [
        entry(1),
        entry(2, purpose=None, operation_name=None, token_id=None),
        entry(3, purpose='引号 " 反斜杠 \\ 制表\t 换行\n emoji 🚓 "seq":1', token_id="jti-1"),
        entry(4, row_ids={"seq": (1, 2), "Resident": (3,)}, access={"Resident.idNumber": "masked"}),
        entry(5, probes=(probe,), denied=("Resident.phone",), redacted=("residents.nodes.0.phone",)),
        entry(6, document_hash="d" * 64, document_client="apq", operation_type="mutation", outcome="written"),
        entry(7, fields=(), row_ids={}),
        # The stand-ins the gateway cuts its text at, typed by a caller: cut the long way.
        entry(8, purpose="\ue000at\ue000 \ue000seq\ue000", operation_name="\ue000seq\ue000"),
    ]


def test_the_cut_content_filled_in_is_the_canonical_json() -> None:
    """The three pieces the database fills with the time and the seq give back ``canonical(content)`` of
    the stored record; the hash the gateway makes itself (SQLite) is ``chain_hash`` of it."""
    for n, made in enumerate(awkward_entries(), start=1):
        values = _values(made, 1000 + n, "0" * 64)
        assert chain_hash(cast(AuditRecord, SimpleNamespace(**values))) == values["hash"]
        values["recorded_at"] = datetime(2026, 12, 3, 8, 30, 1, 7 * n, tzinfo=UTC)
        record = content(cast(AuditRecord, SimpleNamespace(**values)))
        first, middle, last = _for_database([made])[1]
        stamp = values["recorded_at"].isoformat(timespec="microseconds")
        assert first + stamp + middle + str(1000 + n) + last == canonical(record)


async def test_records_appended_in_the_database_hash_as_chain_hash(trail: AuditTrail) -> None:
    """Alone, in a group and in a session's transaction: every stored hash is ``chain_hash`` of its record."""
    made = awkward_entries()
    await trail.append(made[0])
    await asyncio.gather(*(trail.append(e) for e in made[1:4]))
    await trail._append_group(made[4:6])
    async with trail._databases.write_session(AUDIT_DOMAIN) as session, session.begin():
        await trail._append_in(session, made[6:])
    records = await trail.tail(len(made))
    assert [r.seq for r in records] == list(range(1, len(made) + 1))
    assert all(chain_hash(r) == r.hash for r in records)
    assert [r.recorded_at for r in records] == sorted(r.recorded_at for r in records)
    assert {r.purpose for r in records} >= {None, made[2].purpose}
    report = await trail.verify()
    assert report.ok and report.count == len(made), report.describe()


async def test_an_append_riding_on_the_commit_is_made_once_and_only_if_it_commits(trail: AuditTrail) -> None:
    """With no statement to ride on, the append goes alone before the commit; a rolled-back one never."""
    if trail._databases.engine(AUDIT_DOMAIN).dialect.name != "postgresql":
        pytest.skip("SQLite appends within the transaction, under its write lock")
    async with trail._databases.write_session(AUDIT_DOMAIN) as session:
        async with session.begin():
            commit_order_ride(session, _append_statement([entry(1)]))
            await session.rollback()
        async with session.begin():
            commit_order_ride(session, _append_statement([entry(2)]))
    records = await trail.tail(5)
    assert [r.operation_name for r in records] == ["Residents2"]
    assert (await trail.verify()).ok


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


async def _grid(gw: Gateway) -> str:
    data = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
    return str(data["residents"]["nodes"][0]["grid"]["id"])


async def _written(gw: Gateway) -> dict[int, int]:
    """Each dispute's seq: the record its write committed with."""
    async with gw.runtime.databases.session(AUDIT_DOMAIN) as session:
        records = (await session.scalars(select(AuditRecord).where(AuditRecord.outcome == "written"))).all()
    return {dispute: r.seq for r in records for dispute in json.loads(r.row_ids).get("Dispute", ())}


async def _events(gw: Gateway) -> dict[int, int]:
    """Each dispute's outbox id."""
    async with gw.runtime.databases.session("dispute") as session:
        rows = (await session.execute(select(t.DisputeOutbox.row_id, t.DisputeOutbox.id))).all()
    return {int(row_id): int(event_id) for row_id, event_id in rows}


async def test_pg_concurrent_writes_commit_outbox_ids_in_chain_order(pg_url: str) -> None:
    """Outbox ids and audit seqs are both numbered under the one lock: by either, the writes sort alike."""
    async with running_gateway("postgresql", pg_url, residents=20) as gw:
        grid = await _grid(gw)
        writes = [gw.post(REPORT, {"input": _report(grid, f"w{i}")}, role="committee_staff") for i in range(24)]
        reads = [gw.post("{ residents(first: 3) { nodes { name idNumber } } }", role="city_analyst")] * 8
        responses = await asyncio.gather(*writes, *reads)
        assert all(r.status_code == 200 and "errors" not in r.json() for r in responses), [r.text for r in responses]
        written, events = await _written(gw), await _events(gw)
        assert len(written) >= 24 and set(written) == set(events)
        assert sorted(written, key=written.__getitem__) == sorted(events, key=events.__getitem__)
        assert (await gw.runtime.audit.verify()).ok


async def _waiting_on_the_lock(gw: Gateway) -> bool:
    async with gw.runtime.databases.session(AUDIT_DOMAIN) as session:
        found = await session.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND wait_event = 'advisory' AND query LIKE '%gateway_audit_append%dispute_outbox%'"
            )
        )
        return bool(found.scalar_one())


async def test_pg_a_write_numbers_nothing_before_it_holds_the_lock(pg_url: str) -> None:
    """While another transaction holds the commit-order lock, a write waits in its one locking statement
    with no outbox id drawn and no record made; it goes through once the lock is free."""
    async with running_gateway("postgresql", pg_url, residents=5) as gw:
        grid = await _grid(gw)
        head = (await gw.runtime.audit.head())[0]
        async with gw.runtime.databases.write_session("dispute") as holder, holder.begin():
            await holder.execute(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=COMMIT_ORDER_KEY))
            drawn = (await holder.execute(text("SELECT last_value FROM dispute_outbox_id_seq"))).scalar_one()
            write = asyncio.ensure_future(gw.post(REPORT, {"input": _report(grid, "waits")}, role="committee_staff"))
            for _ in range(200):
                if await _waiting_on_the_lock(gw):
                    break
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the write never waited for the lock")
            assert not write.done()
            async with gw.runtime.databases.session("dispute") as other:
                now = (await other.execute(text("SELECT last_value FROM dispute_outbox_id_seq"))).scalar_one()
            assert now == drawn, "an outbox id was drawn before the lock was held"
            assert (await gw.runtime.audit.head())[0] == head
        response = await write
        assert "errors" not in response.json(), response.text
        assert (await gw.runtime.audit.head())[0] > head
        assert (await gw.runtime.audit.verify()).ok


FAIL_AT_COMMIT = (
    "CREATE FUNCTION gw_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
    "CREATE CONSTRAINT TRIGGER gw_refuse AFTER INSERT ON dispute DEFERRABLE INITIALLY DEFERRED "
    "FOR EACH ROW EXECUTE FUNCTION gw_refuse()",
)
MEND = ("DROP TRIGGER gw_refuse ON dispute", "DROP FUNCTION gw_refuse()")


async def test_pg_a_write_failing_at_commit_after_its_append_leaves_neither_row_nor_record(pg_url: str) -> None:
    """A deferred constraint fails at COMMIT, after the statement that appended the record: nothing stays."""
    async with running_gateway("postgresql", pg_url, residents=5) as gw:
        grid = await _grid(gw)

        async def sql(statements: tuple[str, ...]) -> None:
            async with gw.runtime.databases.write_session("dispute") as session, session.begin():
                for statement in statements:
                    await session.execute(text(statement))

        async def disputes() -> int:
            async with gw.runtime.databases.session("dispute") as session:
                return int((await session.execute(select(func.count(t.Dispute.id)))).scalar_one())

        before, head, events = await disputes(), (await gw.runtime.audit.head())[0], await _events(gw)
        written = await _written(gw)
        await sql(FAIL_AT_COMMIT)
        log: list[str] = []
        token = statement_log.set(log)
        try:
            response = await gw.post(REPORT, {"input": _report(grid, "refused")}, role="committee_staff")
        finally:
            statement_log.reset(token)
        await sql(MEND)
        assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL", response.text
        assert any("gateway_audit_append" in s for s in log), "the record was not appended before the commit"
        assert await disputes() == before and await _events(gw) == events
        # The operation's own record says it failed; the write's record went with the write.
        assert [r.outcome for r in await gw.runtime.audit.tail(5) if r.seq > head] == ["error"]
        assert await _written(gw) == written
        assert (await gw.runtime.audit.verify()).ok
        again = await gw.post(REPORT, {"input": _report(grid, "after")}, role="committee_staff")
        assert "errors" not in again.json(), again.text
        assert await disputes() == before + 1


async def test_pg_a_write_takes_the_lock_in_its_last_statement(pg_url: str) -> None:
    """The write's record rides on its outbox insert, the last statement before its commit; the read of
    its answer is recorded in one statement more. Nothing else takes the lock."""
    async with running_gateway("postgresql", pg_url, residents=5) as gw:
        grid = await _grid(gw)
        await gw.post(REPORT, {"input": _report(grid, "first")}, role="committee_staff")
        log: list[str] = []
        token = statement_log.set(log)
        try:
            response = await gw.post(REPORT, {"input": _report(grid, "counted")}, role="committee_staff")
        finally:
            statement_log.reset(token)
        assert "errors" not in response.json(), response.text
        locking = [n for n, s in enumerate(log) if "gateway_audit_append" in s or "pg_advisory" in s]
        assert len(locking) == 2, log
        write = log[locking[0]]
        assert "INSERT INTO dispute_outbox" in write and "gateway_audit_append" in write
        assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE")) for s in log[locking[0] + 1 :]), log
        assert not any("gateway_audit_take_head" in s for s in log)
