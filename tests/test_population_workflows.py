"""Population workflows through mutations: registration (one record per ID number, ever), review,
household and temporary-stay changes, dog licences and guest check-ins. Each is driven with
invalid, duplicate, out-of-area, stale and replayed input, and the database is checked afterwards."""

from __future__ import annotations

import asyncio
import inspect
import json
import re
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import ExecutionResult, subscribe
from sqlalchemy import func, select

from gateway.audit import AUDIT_DOMAIN, AuditRecord
from gateway.data import decode_pk, encode_id
from resolvers.population import idnumber
from resolvers.population import tables as t
from resolvers.seed import demo
from tests.harness import Gateway, database_url, running_gateway

REGISTER = """
mutation Register($input: RegisterResidentInput!) {
  registerResident(input: $input) { clientMutationId registration { id name status version %s } }
}
"""
# Everything a grid worker may read of the registration it sent.
REGISTER_ALL = """
mutation Register($input: RegisterResidentInput!) {
  registerResident(input: $input) {
    clientMutationId
    registration {
      id name gender phone address building registrationKind status submittedAt reviewedAt reviewNote version
      grid { id } household { id } resident { id name version }
    }
  }
}
"""
REGISTRATION_READ = """
query($id: ID!) {
  node(id: $id) {
    ... on ResidentRegistration {
      id name gender phone address building registrationKind status submittedAt reviewedAt reviewNote version
      grid { id } household { id } resident { id name version }
    }
  }
  residents { totalCount }
}
"""
REVIEW_REGISTRATION = """
mutation Review($input: ReviewRegistrationInput!) {
  reviewRegistration(input: $input) { registration { id status version reviewNote resident { id status version } } }
}
"""
REVIEW = """
mutation Review($input: ReviewResidentInput!) { reviewResident(input: $input) { resident { id status version } } }
"""
UPDATE = """
mutation Update($input: UpdateResidentInput!) {
  updateResident(input: $input) { resident { id phone address version } }
}
"""
MOVE = """
mutation Move($input: MoveResidentToHouseholdInput!) {
  moveResidentToHousehold(input: $input) { resident { version household { number head { name } } } }
}
"""
STAY = """
mutation Stay($input: RegisterTemporaryStayInput!) { registerTemporaryStay(input: $input) { clientMutationId %s } }
"""
APPLY = """
mutation Apply($input: ApplyDogLicenceInput!) { applyDogLicence(input: $input) { dogLicence { id status } } }
"""
LICENCE_STEP = """
mutation Step($input: DogLicenceReviewInput!) { %s(input: $input) { dogLicence { id status reason } } }
"""
CHECK_IN = """
mutation CheckIn($input: CheckInGuestInput!) { checkInGuest(input: $input) { checkInId recordedAt clientMutationId } }
"""
CHECK_IN_RECORD = """
query($id: ID!) { node(id: $id) { ... on GuestCheckIn { guestName verification flagged resident { name } } } }
"""

GRID_WORKER_GRID = 15  # gridworker.demo's grid, in police.demo's and committee.demo's areas
COMMITTEE_ONLY_GRID = 17  # committee.demo's community, another officer's police grid
OUTSIDE_GRID = 12  # 红桥和苑: nobody's here but the analyst's


def gid(type_name: str, pk: int) -> str:
    return encode_id(type_name, pk)


def new_number(sequence: int, male: bool = True, born: date = date(1990, 6, 15)) -> str:
    """An ID number no demo resident holds (demo sequences are 900–999)."""
    return idnumber.make("120112", born, 2 * sequence + (1 if male else 0))


def registration(number: str, grid: int | None = GRID_WORKER_GRID, **extra: Any) -> dict[str, Any]:
    male = int(number[16]) % 2 == 1
    base: dict[str, Any] = {
        "idNumber": number,
        "name": "赵新民",
        "gender": "MALE" if male else "FEMALE",
        "phone": "13912345678",
        "address": "津南区八里台镇品湖苑3号楼2门701",
        "building": "津南区八里台镇品湖苑3号楼",
        "registrationKind": "REGISTERED",
    }
    if grid is not None:
        base["gridId"] = gid("Grid", grid)
    base.update(extra)
    return base


@pytest.fixture(scope="module")
def workflow_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("population-workflows"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def pw(workflow_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of its own: these tests write to demo rows."""
    async with running_gateway(*workflow_url) as gateway:
        yield gateway


async def count(gw: Gateway, model: type[Any], *where: Any) -> int:
    async with gw.runtime.databases.session("population") as session:
        return int((await session.execute(select(func.count(model.id)).where(*where))).scalar_one())


async def stored(gw: Gateway, number: str) -> t.Resident:
    async with gw.runtime.databases.session("population") as session:
        row = (await session.scalars(select(t.Resident).where(t.Resident.id_number == number))).one()
    return row


async def errors_of(gw: Gateway, query: str, variables: dict[str, Any], role: str) -> list[dict[str, Any]]:
    response = await gw.post(query, {"input": variables}, role=role)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body.get("errors"), body
    return list(body["errors"])


# ---------------------------------------------------------------------------- registration


async def registrations_of(gw: Gateway, number: str) -> list[t.ResidentRegistration]:
    async with gw.runtime.databases.session("population") as session:
        stmt = select(t.ResidentRegistration).where(t.ResidentRegistration.id_number == number)
        return list(await session.scalars(stmt.order_by(t.ResidentRegistration.id)))


async def last_event(gw: Gateway) -> tuple[str, str, int | None, str]:
    async with gw.runtime.databases.session("population") as session:
        row = (await session.scalars(select(t.PopulationOutbox).order_by(t.PopulationOutbox.id.desc()))).first()
    assert row is not None
    return row.topic, row.type_name, row.grid_id, row.kind


async def last_audit(gw: Gateway) -> dict[str, Any]:
    async with gw.runtime.databases.session(AUDIT_DOMAIN) as session:
        row = (await session.scalars(select(AuditRecord).order_by(AuditRecord.seq.desc()))).first()
    assert row is not None
    kept = ("principal_id", "role", "operation_name", "operation_type", "fields", "row_ids", "redacted", "denied")
    return {key: getattr(row, key) for key in (*kept, "outcome")}


def without_generated(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with generated IDs and times replaced by placeholders."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    for ident, placeholder in ids.items():
        text = text.replace(ident, placeholder)
    return re.sub(r'"(submittedAt|recordedAt)": "[^"]+"', r'"\1": "<time>"', text)


async def review(gw: Gateway, ident: str, decision: str = "APPROVE", **extra: Any) -> dict[str, Any]:
    data = await gw.query(
        REVIEW_REGISTRATION,
        {"input": {"registrationId": ident, "decision": decision, **extra}},
        role="community_police",
    )
    return dict(data["reviewRegistration"]["registration"])


async def test_a_registration_awaits_review_and_writes_no_resident(pw: Gateway) -> None:
    number = new_number(1, male=False)
    residents = await count(pw, t.Resident)
    sent = registration(number, name="钱多多", gridId=gid("Grid", COMMITTEE_ONLY_GRID))
    data = await pw.query(REGISTER % "idNumber resident { id }", {"input": sent}, role="committee_staff")
    result = data["registerResident"]["registration"]
    assert decode_pk(result["id"], "ResidentRegistration") > 0
    assert (result["status"], result["version"], result["resident"]) == ("PENDING_REVIEW", 1, None)
    assert result["idNumber"] == number[:6] + "********" + number[14:]
    assert await count(pw, t.Resident) == residents, "no resident before the police review"
    [row] = await registrations_of(pw, number)
    assert (row.grid_id, row.birth_date, row.gender, row.ethnicity) == (17, date(1990, 6, 15), "female", None)


async def test_a_grid_worker_registers_into_its_own_grid_whatever_it_sends(pw: Gateway) -> None:
    number = new_number(2)
    await pw.query(REGISTER % "", {"input": registration(number, grid=OUTSIDE_GRID)}, role="grid_worker")
    assert [r.grid_id for r in await registrations_of(pw, number)] == [GRID_WORKER_GRID]


async def test_a_number_held_outside_the_area_answers_as_a_new_one(pw: Gateway) -> None:
    """The data-security officer's probe: a grid worker registers a number held in grid 16 and a
    number nobody holds. Answers, later reads, events and audit agree but for generated IDs."""
    hidden = demo.resident(9)  # 何俊, grid 16: outside the grid worker's grid
    held = await stored(pw, hidden["id_number"])
    fresh = new_number(12)
    seen: dict[str, Any] = {}
    for label, number in (("hidden", hidden["id_number"]), ("new", fresh)):
        male = int(number[16]) % 2 == 1
        sent = registration(number, gender="MALE" if male else "FEMALE", clientMutationId=f"probe-{label}")
        residents_before = await count(pw, t.Resident)
        response = await pw.post(REGISTER_ALL, {"input": sent}, role="grid_worker")
        assert response.status_code == 200
        body = response.json()
        assert "errors" not in body, body
        ident = body["data"]["registerResident"]["registration"]["id"]
        event, audit = await last_event(pw), await last_audit(pw)
        read = await pw.post(REGISTRATION_READ, {"id": ident}, role="grid_worker")
        pk = decode_pk(ident, "ResidentRegistration")
        ids = {ident: "<registration>", f"probe-{label}": "<key>", f'"ResidentRegistration": [{pk}]': "<rows>"}
        seen[label] = {
            "answer": without_generated(body, ids),
            "headers": sorted(k for k in response.headers if k not in ("date", "content-length")),
            "event": event,
            "audit": without_generated({**audit, "row_ids": json.loads(audit["row_ids"])}, ids),
            "read": without_generated(read.json(), ids),
            "residents_added": await count(pw, t.Resident) - residents_before,
        }
    assert seen["hidden"] == seen["new"]
    assert seen["new"]["event"] == ("registration", "ResidentRegistration", GRID_WORKER_GRID, "submitted")
    assert seen["new"]["residents_added"] == 0
    assert '"status": "PENDING_REVIEW"' in seen["new"]["answer"]
    after = await stored(pw, hidden["id_number"])
    assert (after.name, after.phone, after.grid_id, after.version) == (held.name, held.phone, 16, held.version)


async def test_a_registration_never_changes_an_active_record(pw: Gateway) -> None:
    known = demo.resident(3)  # 张子轩, grid 15, active, the grid worker sees it
    number = known["id_number"]
    before = await stored(pw, number)
    sent = registration(number, name=known["name"], phone="13611112222", householdId=gid("Household", 1))
    data = await pw.query(REGISTER % "phone resident { id }", {"input": sent}, role="grid_worker")
    result = data["registerResident"]["registration"]
    assert (result["status"], result["version"], result["resident"]) == ("PENDING_REVIEW", 1, None)
    unchanged = await stored(pw, number)
    assert (unchanged.phone, unchanged.version, unchanged.status) == (before.phone, before.version, "active")
    # The police approve: the one record takes the new details, one version on.
    reviewed = await review(pw, result["id"], expectedVersion=1)
    assert reviewed["status"] == "APPROVED"
    assert reviewed["resident"] == {"id": gid("Resident", 3), "status": "ACTIVE", "version": before.version + 1}
    assert await count(pw, t.Resident, t.Resident.id_number == number) == 1
    row = await stored(pw, number)
    assert (row.phone, row.version, row.address) == ("13611112222", before.version + 1, sent["address"])


async def test_the_review_merges_a_hidden_number_into_its_one_record(pw: Gateway) -> None:
    held = demo.resident(19)  # 邵磊, grid 18: police.demo's, not the grid worker's
    number = held["id_number"]
    before = await stored(pw, number)
    sent = registration(number, name=held["name"], phone="13755556666")
    ident = (await pw.query(REGISTER % "", {"input": sent}, role="grid_worker"))["registerResident"]["registration"]
    assert ident["status"] == "PENDING_REVIEW"
    reviewed = await review(pw, ident["id"])
    assert reviewed["resident"] == {"id": gid("Resident", 19), "status": "ACTIVE", "version": before.version + 1}
    assert await count(pw, t.Resident, t.Resident.id_number == number) == 1
    row = await stored(pw, number)
    assert (row.id, row.phone, row.grid_id, row.version) == (19, "13755556666", GRID_WORKER_GRID, before.version + 1)
    [kept] = await registrations_of(pw, number)
    assert (kept.status, kept.resident_id) == ("approved", 19)
    async with pw.runtime.databases.session(AUDIT_DOMAIN) as session:
        written = (
            await session.scalars(
                select(AuditRecord).where(AuditRecord.outcome == "written").order_by(AuditRecord.seq.desc())
            )
        ).first()
    assert written is not None and 19 in json.loads(written.row_ids).get("Resident", []), (
        "the write's audit record names the resident the merge changed"
    )


async def test_approving_a_new_number_makes_one_active_resident(pw: Gateway) -> None:
    number = new_number(13)
    ident = (await pw.query(REGISTER % "", {"input": registration(number)}, role="grid_worker"))["registerResident"][
        "registration"
    ]["id"]
    reviewed = await review(pw, ident)
    assert reviewed["status"] == "APPROVED" and reviewed["resident"]["status"] == "ACTIVE"
    assert reviewed["resident"]["version"] == 1
    row = await stored(pw, number)
    assert (row.status, row.grid_id, row.name, row.ethnicity) == ("active", GRID_WORKER_GRID, "赵新民", "汉族")
    assert reviewed["resident"]["id"] == gid("Resident", row.id)


async def test_concurrent_approvals_of_one_number_write_one_resident_and_lose_no_update(pw: Gateway) -> None:
    number = new_number(3)
    phones = [f"1390000000{n}" for n in range(5)]
    responses = await asyncio.gather(
        *(pw.post(REGISTER % "", {"input": registration(number, phone=p)}, role="grid_worker") for p in phones)
    )
    for response in responses:
        assert "errors" not in response.json(), response.json()
    pending = await registrations_of(pw, number)
    assert len(pending) == len(phones) and await count(pw, t.Resident, t.Resident.id_number == number) == 0
    approvals = await asyncio.gather(
        *(
            pw.post(
                REVIEW_REGISTRATION,
                {"input": {"registrationId": gid("ResidentRegistration", r.id), "decision": "APPROVE"}},
                role="community_police",
            )
            for r in pending
        )
    )
    for response in approvals:
        assert "errors" not in response.json(), response.json()
    assert await count(pw, t.Resident, t.Resident.id_number == number) == 1
    row = await stored(pw, number)
    assert row.version == len(phones) and row.phone in phones
    assert {r.resident_id for r in await registrations_of(pw, number)} == {row.id}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"idNumber": new_number(4)[:17] + ("0" if new_number(4)[17] != "0" else "1")}, "input.idNumber"),
        ({"idNumber": "12011219900615"}, "input.idNumber"),
        ({"gender": "FEMALE"}, "input.gender"),
        ({"birthDate": "1990-06-16"}, "input.birthDate"),
        ({"phone": "1234567"}, "input.phone"),
        ({"name": "  "}, "input.name"),
        ({"address": ""}, "input.address"),
        ({"householdId": gid("Household", 20)}, "input.householdId"),
    ],
)
async def test_bad_registrations_name_the_field_and_write_nothing(
    pw: Gateway, change: dict[str, Any], field: str
) -> None:
    before = await count(pw, t.ResidentRegistration), await count(pw, t.Resident)
    errors = await errors_of(pw, REGISTER % "", {**registration(new_number(4)), **change}, "grid_worker")
    if field == "input.householdId":
        # A household outside the grid worker's grid reads like a missing one: writes obey reads.
        assert errors[0]["extensions"] == {"code": "NOT_FOUND", "argument": field}, errors
    else:
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT" and field in errors[0]["message"], errors
    assert (await count(pw, t.ResidentRegistration), await count(pw, t.Resident)) == before


async def test_a_committee_cannot_register_into_a_grid_outside_its_area(pw: Gateway) -> None:
    total = await count(pw, t.ResidentRegistration)
    refused = await errors_of(pw, REGISTER % "", registration(new_number(5), grid=OUTSIDE_GRID), "committee_staff")
    assert refused[0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(pw, t.ResidentRegistration) == total


async def test_the_same_registration_twice_with_one_key_writes_once(pw: Gateway) -> None:
    number = new_number(6)
    variables = {"input": registration(number)}
    key = {"Idempotency-Key": "phone-retry-population-1"}
    first = await pw.post(REGISTER % "", variables, role="grid_worker", headers=key)
    second = await pw.post(REGISTER % "", variables, role="grid_worker", headers=key)
    assert first.json() == second.json() and second.headers.get("idempotent-replayed") == "true"
    assert len(await registrations_of(pw, number)) == 1, "the replay wrote nothing"
    changed = {"input": registration(number, phone="13899990000")}
    third = await pw.post(REGISTER % "", changed, role="grid_worker", headers=key)
    assert third.json()["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert [r.phone for r in await registrations_of(pw, number)] == ["13912345678"]
    keyed = {"input": registration(number, clientMutationId="form-77")}
    one = await pw.post(REGISTER % "", keyed, role="grid_worker")
    two = await pw.post(REGISTER % "", keyed, role="grid_worker")
    assert one.json() == two.json() and one.json()["data"]["registerResident"]["clientMutationId"] == "form-77"
    assert len(await registrations_of(pw, number)) == 2


# ---------------------------------------------------------------------------- review and changes


async def test_the_police_review_a_registration(pw: Gateway) -> None:
    number = new_number(7)
    registered = await pw.query(REGISTER % "", {"input": registration(number)}, role="grid_worker")
    ident = registered["registerResident"]["registration"]["id"]
    base = {"registrationId": ident}
    no_reason = await errors_of(pw, REVIEW_REGISTRATION, {**base, "decision": "RETURN"}, "community_police")
    assert no_reason[0]["extensions"]["code"] == "BAD_USER_INPUT" and "input.reason" in no_reason[0]["message"]
    stale = await errors_of(
        pw, REVIEW_REGISTRATION, {**base, "decision": "APPROVE", "expectedVersion": 9}, "community_police"
    )
    assert stale[0]["extensions"]["code"] == "CONFLICT" and stale[0]["extensions"]["currentVersion"] == 1
    returned = await review(pw, ident, "RETURN", reason="住址不全 / address incomplete", expectedVersion=1)
    assert (returned["status"], returned["version"], returned["resident"]) == ("RETURNED", 2, None)
    note = await pw.query(
        "query($id: ID!) { node(id: $id) { ... on ResidentRegistration { reviewNote } } }", {"id": ident}, "grid_worker"
    )
    assert note["node"]["reviewNote"] == "住址不全 / address incomplete", "whoever collected it learns why"
    assert await count(pw, t.Resident, t.Resident.id_number == number) == 0
    final = await errors_of(pw, REVIEW_REGISTRATION, {**base, "decision": "APPROVE"}, "community_police")
    assert final[0]["extensions"]["code"] == "CONFLICT"
    # The collector sends the corrected record again: a new registration, approved this time.
    again = await pw.query(REGISTER % "", {"input": registration(number)}, role="grid_worker")
    second = again["registerResident"]["registration"]
    assert second["status"] == "PENDING_REVIEW" and second["id"] != ident
    approved = await review(pw, second["id"], expectedVersion=1)
    assert approved["status"] == "APPROVED" and approved["resident"]["status"] == "ACTIVE"
    assert (await stored(pw, number)).status == "active"


async def test_a_registration_outside_the_officers_area_reads_as_missing(pw: Gateway) -> None:
    number = new_number(14, male=False)
    sent = registration(number, name="钱多多", gridId=gid("Grid", COMMITTEE_ONLY_GRID))
    data = await pw.query(REGISTER % "", {"input": sent}, role="committee_staff")
    ident = data["registerResident"]["registration"]["id"]
    errors = await errors_of(
        pw, REVIEW_REGISTRATION, {"registrationId": ident, "decision": "APPROVE"}, "community_police"
    )
    assert errors[0]["extensions"]["code"] == "NOT_FOUND"
    assert [r.status for r in await registrations_of(pw, number)] == ["pending_review"]
    listed = "{ residentRegistrations(status: PENDING_REVIEW, first: 100) { nodes { id } } }"
    officer = await pw.query(listed, role="community_police")
    committee = await pw.query(listed, role="committee_staff")
    assert ident not in {n["id"] for n in officer["residentRegistrations"]["nodes"]}
    assert ident in {n["id"] for n in committee["residentRegistrations"]["nodes"]}


async def test_a_grid_worker_cannot_review(pw: Gateway) -> None:
    errors = await errors_of(pw, REVIEW, {"residentId": gid("Resident", 11), "decision": "APPROVE"}, "grid_worker")
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in errors[0]["message"]
    assert (await stored(pw, demo.resident(11)["id_number"])).status == "pending_review"


async def test_an_update_against_a_stale_version_is_a_conflict(pw: Gateway) -> None:
    ident = gid("Resident", 4)  # 刘建华, grid 15
    change = {"residentId": ident, "expectedVersion": 1, "phone": "13122223333"}
    data = await pw.query(UPDATE, {"input": change}, role="grid_worker")
    assert data["updateResident"]["resident"]["version"] == 2
    stale = await errors_of(pw, UPDATE, {**change, "phone": "13144445555"}, "grid_worker")
    assert stale[0]["extensions"]["code"] == "CONFLICT" and stale[0]["extensions"]["currentVersion"] == 2
    assert (await stored(pw, demo.resident(4)["id_number"])).phone == "13122223333"
    empty = await errors_of(pw, UPDATE, {"residentId": ident, "expectedVersion": 2}, "grid_worker")
    assert empty[0]["extensions"]["code"] == "BAD_USER_INPUT"
    hidden = await errors_of(
        pw, UPDATE, {"residentId": gid("Resident", 8), "expectedVersion": 1, "phone": "13100000000"}, "grid_worker"
    )
    assert hidden[0]["extensions"]["code"] == "NOT_FOUND", "a row outside the area reads like a missing one"


async def test_a_resident_moves_to_a_new_household_and_the_old_one_keeps_a_head(pw: Gateway) -> None:
    move = {"residentId": gid("Resident", 12), "newHousehold": {"address": "21号楼1门302"}}
    data = await pw.query(MOVE, {"input": move}, role="committee_staff")
    household = data["moveResidentToHousehold"]["resident"]["household"]
    assert household["head"] == {"name": "高建军"}
    assert re.fullmatch(r"H\d{10}", household["number"]), "the number is assigned, never chosen"
    old = await pw.query(
        "query($id: ID!) { node(id: $id) { ... on Household { head { name } } } }", {"id": gid("Household", 8)}
    )
    assert old["node"]["head"]["name"] == "郭丽"
    other = {"residentId": gid("Resident", 13), "newHousehold": {"address": "x"}}
    second = await pw.query(MOVE, {"input": other}, role="committee_staff")
    assert second["moveResidentToHousehold"]["resident"]["household"]["number"] != household["number"]
    blank = {"residentId": gid("Resident", 13), "newHousehold": {"address": " "}, "expectedVersion": 2}
    assert (await errors_of(pw, MOVE, blank, "committee_staff"))[0]["extensions"]["code"] == "BAD_USER_INPUT"
    both = await errors_of(pw, MOVE, {"residentId": gid("Resident", 13)}, "committee_staff")
    assert both[0]["extensions"]["code"] == "BAD_USER_INPUT"
    back = {"residentId": gid("Resident", 12), "householdId": gid("Household", 8), "expectedVersion": 2}
    data = await pw.query(MOVE, {"input": back}, role="committee_staff")
    assert data["moveResidentToHousehold"]["resident"]["version"] == 3
    assert await count(pw, t.Resident, t.Resident.household_id == 8) == 2, (
        "12 came back; 13 heads a household of its own"
    )


async def test_a_grid_worker_registers_a_temporary_stay_in_its_own_grid(pw: Gateway) -> None:
    before = await count(pw, t.TemporaryStay)
    in_own_grid = await count(pw, t.TemporaryStay, t.TemporaryStay.grid_id == GRID_WORKER_GRID)
    stay = {
        "residentId": gid("Resident", 7),
        "address": "品湖苑6号楼3门101",
        "reason": "务工",
        "startDate": "2026-04-01",
        "endDate": "2026-12-31",
        "gridId": gid("Grid", OUTSIDE_GRID),
        "clientMutationId": "stay-1",
    }
    # A grid worker may not read temporary stays: its payload carries only the key.
    data = await pw.query(STAY % "", {"input": stay}, role="grid_worker")
    assert data["registerTemporaryStay"] == {"clientMutationId": "stay-1"}
    hidden = await errors_of(pw, STAY % "temporaryStay { reason }", stay, "grid_worker")
    assert hidden[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await count(pw, t.TemporaryStay, t.TemporaryStay.grid_id == GRID_WORKER_GRID) == in_own_grid + 1
    assert await count(pw, t.TemporaryStay) == before + 1
    seen = await pw.query(
        STAY % "temporaryStay { reason resident { name } }",
        {"input": {**stay, "clientMutationId": "stay-2", "gridId": gid("Grid", GRID_WORKER_GRID)}},
        role="community_police",
    )
    assert seen["registerTemporaryStay"]["temporaryStay"] == {"reason": "务工", "resident": {"name": "马晓东"}}
    backwards = await errors_of(
        pw, STAY % "", {**stay, "clientMutationId": None, "endDate": "2026-03-01"}, "community_police"
    )
    assert backwards[0]["extensions"]["code"] == "BAD_USER_INPUT" and "input.endDate" in backwards[0]["message"]
    assert await count(pw, t.TemporaryStay) == before + 2


# ---------------------------------------------------------------------------- dog licences


async def test_a_dog_licence_is_applied_for_pre_reviewed_and_decided(pw: Gateway) -> None:
    applied = await pw.query(
        APPLY, {"input": {"residentId": gid("Resident", 5), "dogName": "团团", "breed": "柴犬"}}, role="committee_staff"
    )
    ident = applied["applyDogLicence"]["dogLicence"]["id"]
    assert applied["applyDogLicence"]["dogLicence"]["status"] == "APPLIED"
    duplicate = await errors_of(
        pw, APPLY, {"residentId": gid("Resident", 5), "dogName": "团团", "breed": "柴犬"}, "committee_staff"
    )
    assert duplicate[0]["extensions"]["code"] == "CONFLICT"
    early = await errors_of(
        pw, LICENCE_STEP % "decideDogLicence", {"dogLicenceId": ident, "decision": "APPROVE"}, "community_police"
    )
    assert early[0]["extensions"]["code"] == "CONFLICT"
    assert early[0]["extensions"]["allowed"] == ["pre_reviewed", "rejected"]
    skipped = await errors_of(
        pw,
        LICENCE_STEP % "decideDogLicence",
        {"dogLicenceId": ident, "decision": "REJECT", "reason": "x"},
        "community_police",
    )
    assert skipped[0]["extensions"]["code"] == "CONFLICT"
    passed = await pw.query(
        LICENCE_STEP % "preReviewDogLicence",
        {"input": {"dogLicenceId": ident, "decision": "APPROVE"}},
        role="community_police",
    )
    assert passed["preReviewDogLicence"]["dogLicence"]["status"] == "PRE_REVIEWED"
    unreasoned = await errors_of(
        pw, LICENCE_STEP % "decideDogLicence", {"dogLicenceId": ident, "decision": "REJECT"}, "community_police"
    )
    assert unreasoned[0]["extensions"]["code"] == "BAD_USER_INPUT" and "input.reason" in unreasoned[0]["message"]
    rejected = await pw.query(
        LICENCE_STEP % "decideDogLicence",
        {"input": {"dogLicenceId": ident, "decision": "REJECT", "reason": "未提供免疫证明 / no vaccination record"}},
        role="community_police",
    )
    assert rejected["decideDogLicence"]["dogLicence"]["status"] == "REJECTED"
    final = await errors_of(
        pw, LICENCE_STEP % "decideDogLicence", {"dogLicenceId": ident, "decision": "APPROVE"}, "community_police"
    )
    assert final[0]["extensions"]["code"] == "CONFLICT" and "final state" in final[0]["message"]
    async with pw.runtime.databases.session("population") as session:
        row = await session.get(t.DogLicence, decode_pk(ident, "DogLicence"))
    assert row is not None and (row.status, row.reason) == ("rejected", "未提供免疫证明 / no vaccination record")


# ---------------------------------------------------------------------------- check-ins


async def _check_in(pw: Gateway, property_id: int, name: str, number: str, role: str = "rental_platform") -> Any:
    sent = {"propertyId": gid("RentalProperty", property_id), "guestName": name, "guestIdNumber": number}
    return await pw.query(CHECK_IN, {"input": sent}, role=role)


async def test_check_ins_are_verified_and_flagged_while_the_receipt_says_nothing(pw: Gateway) -> None:
    member = demo.resident(17)  # 陈燕, no flags
    watched = demo.resident(15)  # 韩冬, on a watch list
    verified = (await _check_in(pw, 2, member["name"], member["id_number"]))["checkInGuest"]
    impostor = (await _check_in(pw, 2, "王冒名", member["id_number"]))["checkInGuest"]
    listed = (await _check_in(pw, 2, watched["name"], watched["id_number"]))["checkInGuest"]
    visitor = (await _check_in(pw, 2, "罗志强", new_number(11)))["checkInGuest"]
    for receipt in (verified, impostor, listed, visitor):
        assert set(receipt) == {"checkInId", "recordedAt", "clientMutationId"}
    police = {
        name: (await pw.query(CHECK_IN_RECORD, {"id": receipt["checkInId"]}, role="community_police"))["node"]
        for name, receipt in (("verified", verified), ("impostor", impostor), ("listed", listed), ("visitor", visitor))
    }
    assert police["verified"] == {
        "guestName": member["name"],
        "verification": "verified",
        "flagged": False,
        "resident": {"name": member["name"]},
    }
    assert (police["impostor"]["verification"], police["impostor"]["flagged"]) == ("mismatch", True)
    assert police["impostor"]["resident"] is None
    assert (police["listed"]["verification"], police["listed"]["flagged"]) == ("verified", True)
    # A visitor from elsewhere is not in these records: unverified, and not a matter for the police.
    assert (police["visitor"]["verification"], police["visitor"]["flagged"]) == ("unverified", False)


async def test_the_rental_platform_sees_no_identity_check_in_its_schema(pw: Gateway) -> None:
    types = await pw.query("{ __schema { types { name } mutationType { fields { name } } } }", role="rental_platform")
    names = {t["name"] for t in types["__schema"]["types"]}
    assert "GuestCheckIn" not in names and "Resident" not in names
    assert [f["name"] for f in types["__schema"]["mutationType"]["fields"]] == ["checkInGuest", "checkOutGuest"]


async def test_bad_and_foreign_check_ins_write_nothing(pw: Gateway) -> None:
    before = await count(pw, t.GuestCheckIn)
    number = demo.resident(17)["id_number"]
    bad = {"propertyId": gid("RentalProperty", 2), "guestName": "陈燕", "guestIdNumber": number[:17] + "Y"}
    errors = await errors_of(pw, CHECK_IN, bad, "rental_platform")
    assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT" and "input.guestIdNumber" in errors[0]["message"]
    missing = {**bad, "guestIdNumber": number, "propertyId": gid("RentalProperty", 999)}
    assert (await errors_of(pw, CHECK_IN, missing, "rental_platform"))[0]["extensions"]["code"] == "NOT_FOUND"
    # The police do not check guests in: the mutation is absent from their schema.
    foreign = {**missing, "propertyId": gid("RentalProperty", 1)}
    refused = await errors_of(pw, CHECK_IN, foreign, "community_police")
    assert refused[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await count(pw, t.GuestCheckIn) == before


async def test_a_platform_checks_guests_in_only_where_it_operates(pw: Gateway) -> None:
    async with pw.runtime.databases.session("population") as session, session.begin():
        others = {"landlord_id": 9, "grid_id": 16, "address": "品湖苑12号楼2门101", "rooms": 1}
        session.add(t.RentalProperty(id=901, name="别家平台的房", platform_id="other.platform", **others))
        session.add(t.RentalProperty(id=902, name="无平台的房", platform_id=None, **others))
    before = await count(pw, t.GuestCheckIn)
    member = demo.resident(17)
    sent = {"guestName": member["name"], "guestIdNumber": member["id_number"]}
    answers = []
    for pk in (901, 902, 999):
        errors = await errors_of(pw, CHECK_IN, {**sent, "propertyId": gid("RentalProperty", pk)}, "rental_platform")
        answers.append({**errors[0], "message": errors[0]["message"].replace(gid("RentalProperty", pk), "<id>")})
    assert answers[0] == answers[1] == answers[2], answers
    assert answers[0]["extensions"] == {"code": "NOT_FOUND", "argument": "input.propertyId"}
    assert await count(pw, t.GuestCheckIn) == before, "nothing written"
    # Its own properties, wherever in the city they lie, take guests.
    assert (await _check_in(pw, 1, member["name"], member["id_number"]))["checkInGuest"]["checkInId"]
    assert await count(pw, t.GuestCheckIn) == before + 1


# ---------------------------------------------------------------------------- the change feed


async def _subscribe(pw: Gateway, role: str, query: str) -> Any:
    runtime = pw.runtime
    principal = await runtime.authenticator.authenticate(f"Bearer {pw.tokens[role]}")
    executor = runtime.executor_for(principal)
    prepared = executor.prepare(query)
    assert prepared.document is not None, prepared.errors
    started = subscribe(executor.schema, prepared.document, context_value=runtime.context_for(principal))
    stream = await started if inspect.isawaitable(started) else started
    assert not isinstance(stream, ExecutionResult), stream
    return stream


async def test_resident_changes_reach_the_committee_masked(pw: Gateway) -> None:
    query = "subscription { residentChanged { eventId kind resident { id name idNumber } } }"
    stream = await _subscribe(pw, "committee_staff", query)
    try:
        waiting = asyncio.ensure_future(anext(stream))
        await asyncio.sleep(0.1)
        change = {"residentId": gid("Resident", 6), "expectedVersion": 1, "address": "品湖苑5号楼1门303"}
        await pw.query(UPDATE, {"input": change}, role="grid_worker")
        result = await asyncio.wait_for(waiting, timeout=10)
    finally:
        await stream.aclose()
    assert not result.errors, result.errors
    event = result.data["residentChanged"]
    number = demo.resident(6)["id_number"]
    assert event["kind"] == "updated" and event["resident"]["id"] == gid("Resident", 6)
    assert event["resident"]["idNumber"] == number[:6] + "********" + number[14:]
    # Resuming after an earlier event replays what was missed, this change among it.
    domain, _, seq = event["eventId"].partition(":")
    resumed = await _subscribe(
        pw,
        "committee_staff",
        f'subscription {{ residentChanged(afterEvent: "{domain}:{int(seq) - 1}") {{ eventId }} }}',
    )
    try:
        replayed = await asyncio.wait_for(anext(resumed), timeout=10)
    finally:
        await resumed.aclose()
    assert replayed.data["residentChanged"]["eventId"] == event["eventId"]


async def _token(gw: Gateway, principal_id: str) -> str:
    record = await gw.runtime.directory.find(principal_id)
    assert record is not None
    return await gw.runtime.tokens.issue(record.id, timedelta(hours=1), record.scopes)


async def _as(gw: Gateway, token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await gw.client.post(
        "/graphql", json={"query": query, "variables": variables}, headers={"Authorization": f"Bearer {token}"}
    )
    return dict(response.json())


async def test_a_number_held_in_another_police_area_is_moved_only_when_that_area_approves(pw: Gateway) -> None:
    gulou = await _token(pw, "police.gulou")
    theirs = await _as(pw, gulou, "{ residents(first: 1) { nodes { id idNumber name } } }", {})
    held = theirs["data"]["residents"]["nodes"][0]
    number, before = held["idNumber"], await stored(pw, held["idNumber"])
    sent = registration(number, name="冒名", phone="13700001111")
    ident = (await pw.query(REGISTER % "", {"input": sent}, role="grid_worker"))["registerResident"]["registration"]
    [asked] = await registrations_of(pw, number)

    first = await review(pw, ident["id"])
    assert first["status"] == "PENDING_REVIEW" and first["resident"] is None
    seen = await pw.query(
        "query($id: ID!) { node(id: $id) { ... on ResidentRegistration { status awaitsHolderReview } } }",
        {"id": ident["id"]},
        role="community_police",
    )
    assert seen["node"] == {"status": "PENDING_REVIEW", "awaitsHolderReview": True}
    collected = await pw.query(
        "query($id: ID!) { node(id: $id) { ... on ResidentRegistration { status } } }",
        {"id": ident["id"]},
        role="grid_worker",
    )
    assert collected["node"] == {"status": "PENDING_REVIEW"}, "the collector cannot tell the number is held elsewhere"
    after = await stored(pw, number)
    assert (after.name, after.grid_id, after.version) == (before.name, before.grid_id, before.version), (
        "a record outside the reviewer's area is not taken over by its approval"
    )
    again = await pw.post(
        REVIEW_REGISTRATION, {"input": {"registrationId": ident["id"], "decision": "APPROVE"}}, role="community_police"
    )
    assert again.json()["errors"][0]["extensions"]["code"] == "CONFLICT", "the collector's area cannot decide it"

    listed = await _as(pw, gulou, "{ residentRegistrations(first: 10) { nodes { id status heldBy { id } } } }", {})
    [transfer] = [n for n in listed["data"]["residentRegistrations"]["nodes"] if n["status"] == "TRANSFER_REVIEW"]
    assert transfer["heldBy"] == {"id": held["id"]}, "the holder's officer compares with its own record"
    decided = await _as(
        pw, gulou, REVIEW_REGISTRATION, {"input": {"registrationId": transfer["id"], "decision": "APPROVE"}}
    )
    assert decided["data"]["reviewRegistration"]["registration"]["status"] == "APPROVED", decided
    moved = await stored(pw, number)
    assert (moved.id, moved.name, moved.grid_id) == (before.id, "冒名", GRID_WORKER_GRID)
    assert {r.status for r in await registrations_of(pw, number)} == {"approved"} and asked.id in {
        r.id for r in await registrations_of(pw, number)
    }
    assert await count(pw, t.Resident, t.Resident.id_number == number) == 1


async def test_a_registration_is_never_reviewed_by_its_own_collector(pw: Gateway) -> None:
    number = new_number(21)
    sent = registration(number)
    ident = (await pw.query(REGISTER % "", {"input": sent}, role="community_police"))["registerResident"][
        "registration"
    ]["id"]
    refused = await pw.post(
        REVIEW_REGISTRATION, {"input": {"registrationId": ident, "decision": "APPROVE"}}, role="community_police"
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count(pw, t.Resident, t.Resident.id_number == number) == 0
