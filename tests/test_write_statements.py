"""A write of kept statements (gateway.write.statements) keeps every promise of the ORM's: the rows it
wrote named in its audit record, its event in the outbox, all of it or none of it, and one statement
that takes the commit-order lock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.audit import AuditRecord
from gateway.data import decode_pk, statement_log
from gateway.write import Writes
from resolvers.dispute import tables as t
from tests.harness import Gateway, report_input

REPORT = """
mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id code parties { name } } }
}
"""


async def _grid(gw: Gateway) -> str:
    data = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
    return str(data["residents"]["nodes"][0]["grid"]["id"])


async def _count(gw: Gateway, stmt: Any) -> int:
    async with gw.runtime.databases.session("dispute") as session:
        return int((await session.execute(stmt)).scalar_one())


async def _written_since(gw: Gateway, seq: int) -> list[AuditRecord]:
    return [r for r in await gw.runtime.audit.tail(20) if r.seq > seq and r.outcome == "written"]


async def test_a_report_names_every_row_it_wrote_and_records_its_event(gw: Gateway) -> None:
    grid, head = await _grid(gw), (await gw.runtime.audit.head())[0]
    data = await gw.query(REPORT, {"input": report_input(grid, "噪音纠纷 / noise")}, role="committee_staff")
    dispute = decode_pk(data["reportDispute"]["dispute"]["id"], "Dispute")
    assert data["reportDispute"]["dispute"]["code"].endswith(f"{dispute:06d}")
    assert [p["name"] for p in data["reportDispute"]["dispute"]["parties"]] == ["王秀英", "赵大海"]
    async with gw.runtime.databases.session("dispute") as session:
        parties = sorted(
            (await session.scalars(select(t.DisputeParty.id).where(t.DisputeParty.dispute_id == dispute))).all()
        )
        events = (
            (await session.execute(select(t.DisputeOutbox.kind).where(t.DisputeOutbox.row_id == dispute)))
            .scalars()
            .all()
        )
    assert len(parties) == 2 and list(events) == ["reported"]
    [record] = await _written_since(gw, head)
    assert json.loads(record.row_ids) == {"Dispute": [dispute], "DisputeParty": parties}
    assert (await gw.runtime.audit.verify()).ok


async def test_a_report_failing_after_its_inserts_leaves_nothing(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    grid, head = await _grid(gw), (await gw.runtime.audit.head())[0]
    disputes, parties = (
        await _count(gw, select(func.count(t.Dispute.id))),
        await _count(gw, select(func.count(t.DisputeParty.id))),
    )
    events = await _count(gw, select(func.count(t.DisputeOutbox.id)))

    async def broken(*_: Any, **__: Any) -> None:
        raise RuntimeError("the event could not be recorded")

    monkeypatch.setattr(Writes, "emit", broken)
    errors = await gw.errors(REPORT, {"input": report_input(grid, "半途而废 / half done")}, role="committee_staff")
    monkeypatch.undo()
    assert errors[0]["extensions"]["code"] == "INTERNAL"
    assert await _count(gw, select(func.count(t.Dispute.id))) == disputes
    assert await _count(gw, select(func.count(t.DisputeParty.id))) == parties
    assert await _count(gw, select(func.count(t.DisputeOutbox.id))) == events
    assert await _written_since(gw, head) == []
    # The connection that held the failed transaction serves the next write as new.
    await gw.query(REPORT, {"input": report_input(grid, "再报 / again")}, role="committee_staff")
    assert await _count(gw, select(func.count(t.Dispute.id))) == disputes + 1


async def test_a_report_takes_the_commit_order_lock_in_one_statement(gw: Gateway) -> None:
    if gw.runtime.databases.driver("dispute") is None:
        pytest.skip("SQLite has one writer: there is no lock to take")
    grid = await _grid(gw)
    for title in ("第一起 / first", "第二起 / second"):
        log: list[str] = []
        token = statement_log.set(log)
        try:
            await gw.query(REPORT, {"input": report_input(grid, title)}, role="committee_staff")
        finally:
            statement_log.reset(token)
        locking = [sql for sql in log if "gateway_audit_append" in sql or "pg_advisory_xact_lock" in sql]
        # The write's events and record in one statement; the operation's own record (group commit) apart.
        assert len(locking) == 2, log
        assert sum("INSERT INTO dispute_outbox" in sql and "gateway_audit_append" in sql for sql in locking) == 1, log
        assert not any("INSERT INTO dispute_outbox" in sql for sql in log if sql not in locking), log


def test_canonical_json_is_what_json_dumps_writes() -> None:
    """A record's hash is taken over its canonical JSON: the fast path (orjson) must write the very text
    ``json.dumps`` writes, floats, huge integers, control characters and lone surrogates included."""
    import json
    import random

    from gateway.audit.trail import canonical

    def reference(value: Any) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))

    chars = [chr(i) for i in range(0x250)] + ["\u2028", "中", "😀", "\ud800", "\x7f"]
    shuffled = random.Random(7)

    def made(depth: int = 0) -> Any:
        pick = shuffled.random()
        if depth > 3 or pick < 0.3:
            return shuffled.choice(
                [
                    shuffled.randint(-(2**70), 2**70),
                    shuffled.randint(-1000, 1000),
                    shuffled.random() * 10 ** shuffled.randint(-12, 20),
                    True,
                    None,
                    "".join(shuffled.choice(chars) for _ in range(shuffled.randint(0, 8))),
                ]
            )
        if pick < 0.6:
            return [made(depth + 1) for _ in range(shuffled.randint(0, 4))]
        if pick < 0.7:
            return tuple(made(depth + 1) for _ in range(shuffled.randint(0, 3)))
        return {
            "".join(shuffled.choice(chars) for _ in range(3)): made(depth + 1) for _ in range(shuffled.randint(0, 4))
        }

    def text_or_error(write: Any, value: Any) -> Any:
        try:
            return write(value)
        except (TypeError, ValueError) as error:
            return type(error)

    for _ in range(20000):
        value = made()
        assert text_or_error(canonical, value) == text_or_error(reference, value), repr(value)
