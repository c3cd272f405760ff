"""No data without its audit record: a mutation's write commits with its record, or not at all."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.audit import AUDIT_DOMAIN, AuditRecord
from gateway.data import create_engine, decode_pk
from resolvers.dispute import tables as t
from tests.harness import Gateway, database_url, running_gateway

REPORT = """
mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id parties { name } } }
}
"""
SQLITE_FAIL = (
    "CREATE TRIGGER gateway_audit_down BEFORE INSERT ON gateway_audit BEGIN SELECT RAISE(ABORT, 'audit down'); END",
)
SQLITE_MEND = ("DROP TRIGGER gateway_audit_down",)
POSTGRES_FAIL = (
    "CREATE FUNCTION gateway_audit_down() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'audit down'; END $$",
    "CREATE TRIGGER gateway_audit_down BEFORE INSERT ON gateway_audit FOR EACH ROW EXECUTE FUNCTION gateway_audit_down()",
)
POSTGRES_MEND = ("DROP TRIGGER gateway_audit_down ON gateway_audit", "DROP FUNCTION gateway_audit_down()")


@pytest.fixture(scope="module")
def apart_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, str]]:
    """Two databases: the disputes in one, everything else (the trail included) in the other."""
    backend, _ = backend_url
    with (
        database_url(backend, Path(tmp_path_factory.mktemp("audit-main"))) as main,
        database_url(backend, Path(tmp_path_factory.mktemp("audit-disputes"))) as disputes,
    ):
        yield backend, main, disputes


@pytest.fixture(scope="module")
async def apart(apart_url: tuple[str, str, str]) -> AsyncIterator[Gateway]:
    backend, main, disputes = apart_url
    async with running_gateway(backend, main, db_url_dispute=disputes) as gateway:
        yield gateway


@asynccontextmanager
async def audit_down(gw: Gateway) -> AsyncIterator[None]:
    """The trail's database refuses every new record (a real failure, from a trigger) while inside."""
    engine = create_engine(gw.settings.db_url_for(AUDIT_DOMAIN))
    postgres = engine.dialect.name == "postgresql"
    try:
        async with engine.begin() as connection:
            for statement in POSTGRES_FAIL if postgres else SQLITE_FAIL:
                await connection.exec_driver_sql(statement)
        yield
    finally:
        async with engine.begin() as connection:
            for statement in POSTGRES_MEND if postgres else SQLITE_MEND:
                await connection.exec_driver_sql(statement)
        await engine.dispose()


def _input(grid: str, name: str) -> dict[str, Any]:
    return {
        "title": "楼道堆物 / clutter in the stairwell",
        "category": "NEIGHBOUR",
        "description": "三楼住户在楼道堆放杂物 / third-floor clutter",
        "gridId": grid,
        "parties": [{"role": "COMPLAINANT", "name": name, "phone": "13812345678"}],
    }


async def _grid(gw: Gateway) -> str:
    data = await gw.query("{ residents(first: 1) { nodes { grid { id } } } }", role="committee_staff")
    return str(data["residents"]["nodes"][0]["grid"]["id"])


async def _disputes(gw: Gateway) -> int:
    async with gw.runtime.databases.session("dispute") as session:
        return int((await session.execute(select(func.count(t.Dispute.id)))).scalar_one())


async def _records_since(gw: Gateway, seq: int) -> list[AuditRecord]:
    return [r for r in await gw.runtime.audit.tail(20) if r.seq > seq]


async def _head(gw: Gateway) -> int:
    return (await gw.runtime.audit.head())[0]


@pytest.mark.parametrize("where", ["shared", "apart"])
async def test_a_write_commits_with_its_audit_record(gw: Gateway, apart: Gateway, where: str) -> None:
    gateway = gw if where == "shared" else apart
    grid = await _grid(gateway)
    before, head = await _disputes(gateway), await _head(gateway)
    response = await gateway.post(REPORT, {"input": _input(grid, "王建国")}, role="committee_staff")
    assert "errors" not in response.json(), response.json()
    dispute = decode_pk(response.json()["data"]["reportDispute"]["dispute"]["id"], "Dispute")
    assert await _disputes(gateway) == before + 1
    records = await _records_since(gateway, head)
    written = [r for r in records if r.outcome == "written"]
    assert len(written) == 1, [(r.outcome, r.operation_name) for r in records]
    record = written[0]
    assert record.operation_name == "Report" and record.operation_type == "mutation"
    assert dispute in json.loads(record.row_ids)["Dispute"]
    assert record.token_id == gateway.runtime.tokens.decode(gateway.tokens["committee_staff"]).token_id
    # The operation's own record (what it returned) follows, and the chain holds together.
    assert [r.outcome for r in records] == ["written", "ok"]
    assert (await gateway.runtime.audit.verify()).ok


@pytest.mark.parametrize("where", ["shared", "apart"])
async def test_a_write_whose_audit_record_cannot_be_written_is_not_made(
    gw: Gateway, apart: Gateway, where: str
) -> None:
    gateway = gw if where == "shared" else apart
    grid = await _grid(gateway)
    before, head = await _disputes(gateway), await _head(gateway)
    async with audit_down(gateway):
        response = await gateway.post(REPORT, {"input": _input(grid, "李卫东")}, role="committee_staff")
    assert response.status_code == 503, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "data" not in response.json()
    assert await _disputes(gateway) == before, "the write stands without its audit record"
    async with gateway.runtime.databases.session("dispute") as session:
        named = select(func.count(t.DisputeParty.id)).where(t.DisputeParty.name == "李卫东")
        assert (await session.execute(named)).scalar_one() == 0
    assert await _head(gateway) == head
    # Once the trail is back, the same mutation goes through.
    again = await gateway.post(REPORT, {"input": _input(grid, "李卫东")}, role="committee_staff")
    assert "errors" not in again.json(), again.json()
    assert await _disputes(gateway) == before + 1
