"""Volunteer workflows: enrolment (one profile per resident), patrol shifts, grid assignment,
each checked against the caller's area, and the database left holding exactly what it should."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from gateway.data import decode_pk, encode_id
from resolvers.volunteer import tables as t
from tests.harness import Gateway, database_url, running_gateway
from tests.live import serving, subscribed

ENROL = """
mutation($input: EnrolVolunteerInput!) {
  enrolVolunteer(input: $input) {
    volunteer { id skills status team { name } grid { name } resident { name } }
    clientMutationId
  }
}
"""
SCHEDULE = """
mutation($input: SchedulePatrolInput!) {
  schedulePatrol(input: $input) { patrol { id route startsAt members { id } grid { name } } clientMutationId }
}
"""
ASSIGN = """
mutation($input: AssignVolunteerGridInput!) {
  assignVolunteerGrid(input: $input) { volunteer { id grid { name } } clientMutationId }
}
"""
PINHU_TEAM = encode_id("VolunteerTeam", 4)  # 八里台平安志愿服务队
HEYUAN_TEAM = encode_id("VolunteerTeam", 5)


@pytest.fixture(scope="module")
def volunteer_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("volunteer"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(volunteer_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """A gateway of this module's own: its writes disturb no other test."""
    async with running_gateway(*volunteer_url) as gateway:
        yield gateway


def grid(pk: int) -> str:
    return encode_id("Grid", pk)


def enrolment(resident: int, grid_id: int, skills: list[str], team: str = PINHU_TEAM) -> dict[str, Any]:
    return {"residentId": encode_id("Resident", resident), "teamId": team, "gridId": grid(grid_id), "skills": skills}


def shift(grid_id: int, volunteers: list[int], starts: datetime, hours: int = 2) -> dict[str, Any]:
    return {
        "teamId": PINHU_TEAM,
        "gridId": grid(grid_id),
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=hours)).isoformat(),
        "route": "品湖苑3号楼—5号楼—中心花园",
        "volunteerIds": [encode_id("Volunteer", v) for v in volunteers],
    }


EVENING = datetime(2026, 12, 1, 18, 30, tzinfo=UTC)


async def send(
    gw: Gateway, mutation: str, given: dict[str, Any], role: str, headers: dict[str, str] | None = None
) -> Any:
    response = await gw.post(mutation, {"input": given}, role, headers)
    assert response.status_code == 200, response.text
    return response.json()


def code_of(body: Any) -> str:
    return str(body["errors"][0]["extensions"]["code"])


async def count(gw: Gateway, model: type[Any], *where: Any) -> int:
    async with gw.runtime.databases.session("volunteer") as session:
        return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


async def scalars(gw: Gateway, stmt: Any) -> list[Any]:
    async with gw.runtime.databases.session("volunteer") as session:
        return list((await session.scalars(stmt)).all())


async def snapshot(gw: Gateway) -> tuple[int, ...]:
    """Row counts of every volunteer table, to show that a refused write left nothing behind."""
    return tuple([await count(gw, model) for model in (t.Volunteer, t.Patrol, t.PatrolMember, t.VolunteerOutbox)])


# ---------------------------------------------------------------------- enrolment


async def test_enrolling_a_resident_again_updates_the_one_profile(gw: Gateway) -> None:
    first = await send(gw, ENROL, enrolment(1, 15, ["巡逻防控"]), "committee_staff")
    profile = first["data"]["enrolVolunteer"]["volunteer"]
    assert profile["resident"] == {"name": "张志远"} and profile["team"] == {"name": "八里台平安志愿服务队"}

    again = await send(gw, ENROL, enrolment(1, 16, ["反诈宣传", " 巡逻防控 ", "反诈宣传"]), "committee_staff")
    updated = again["data"]["enrolVolunteer"]["volunteer"]
    assert updated["id"] == profile["id"]
    assert updated["skills"] == "反诈宣传,巡逻防控" and updated["grid"] == {"name": "品湖苑社区第二网格"}

    assert await count(gw, t.Volunteer, t.Volunteer.resident_id == 1) == 1
    pk = decode_pk(profile["id"], "Volunteer")
    events = select(t.VolunteerOutbox.kind).where(
        t.VolunteerOutbox.row_id == pk, t.VolunteerOutbox.topic == "volunteer"
    )
    assert await scalars(gw, events.order_by(t.VolunteerOutbox.id)) == ["enrolled", "transferred", "updated"]


@pytest.mark.parametrize(
    ("role", "resident", "grid_id", "code"),
    [
        ("committee_staff", 12, 18, "FORBIDDEN"),  # 丽湖苑: another community's grid
        # Resident 12 lies outside the officer's police grid too: a row it cannot see is NOT_FOUND
        # (writes obey reads), before the grid's area is even considered.
        ("community_police", 12, 17, "NOT_FOUND"),
    ],
)
async def test_enrolling_outside_ones_area_is_refused(
    gw: Gateway, role: str, resident: int, grid_id: int, code: str
) -> None:
    before = await snapshot(gw)
    body = await send(gw, ENROL, enrolment(resident, grid_id, ["邻里守望"]), role)
    assert code_of(body) == code
    assert await snapshot(gw) == before


async def test_enrolling_a_resident_whose_profile_lies_elsewhere_answers_like_a_new_enrolment(gw: Gateway) -> None:
    # police.demo moves volunteer 9 (resident 5) from grid 15 to grid 18, outside the committee's community.
    moved = await send(gw, ASSIGN, {"volunteerId": encode_id("Volunteer", 9), "gridId": grid(18)}, "community_police")
    assert moved["data"]["assignVolunteerGrid"]["volunteer"]["grid"] == {"name": "丽湖苑社区第一网格"}
    fresh = (await send(gw, ENROL, enrolment(1, 15, ["矛盾调解"]), "committee_staff"))["data"]["enrolVolunteer"]
    body = await send(gw, ENROL, enrolment(5, 15, ["矛盾调解"]), "committee_staff")
    assert "errors" not in body, "a refusal would tell the caller the person volunteers in another area"
    profile = body["data"]["enrolVolunteer"]["volunteer"]
    assert set(profile) == set(fresh["volunteer"])
    assert decode_pk(profile["id"], "Volunteer") > decode_pk(fresh["volunteer"]["id"], "Volunteer"), (
        "a new profile, numbered like any new one: the old one's number would tell it existed"
    )
    if "joinedOn" in profile:
        assert profile["joinedOn"] == fresh["volunteer"]["joinedOn"]
    rows = await scalars(gw, select(t.Volunteer).where(t.Volunteer.resident_id == 5).order_by(t.Volunteer.id))
    assert [(r.id, r.grid_id, r.status) for r in rows] == [(9, 18, "left"), (rows[1].id, 15, "active")]
    left = select(t.VolunteerOutbox.grid_id).where(t.VolunteerOutbox.row_id == 9, t.VolunteerOutbox.kind == "left")
    assert await scalars(gw, left) == [18], "the area the volunteer leaves learns it from its own feed"


@pytest.mark.parametrize(
    ("change", "argument", "code"),
    [
        (
            {"residentId": encode_id("Resident", 16)},
            "input.residentId",
            "NOT_FOUND",
        ),  # grid 18: hidden from the committee
        ({"residentId": encode_id("Resident", 99999)}, "input.residentId", "NOT_FOUND"),
        ({"residentId": encode_id("Grid", 1)}, "input.residentId", "BAD_USER_INPUT"),
        ({"teamId": encode_id("VolunteerTeam", 999)}, "input.teamId", "NOT_FOUND"),
        ({"gridId": encode_id("Grid", 99999)}, "input.gridId", "NOT_FOUND"),
        ({"skills": ["巡逻防控", " "]}, "input.skills[1]", "BAD_USER_INPUT"),
        ({"skills": ["巡逻防控,反诈宣传"]}, "input.skills[0]", "BAD_USER_INPUT"),
        ({"skills": ["十个字的技能名称啊啊啊" * 2]}, "input.skills[0]", "BAD_USER_INPUT"),
    ],
)
async def test_bad_enrolments_are_refused_and_write_nothing(
    gw: Gateway, change: dict[str, Any], argument: str, code: str
) -> None:
    before = await snapshot(gw)
    body = await send(gw, ENROL, {**enrolment(7, 15, ["巡逻防控"]), **change}, "committee_staff")
    assert code_of(body) == code, body
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert await snapshot(gw) == before


async def test_a_replayed_enrolment_is_written_once(gw: Gateway) -> None:
    before = await snapshot(gw)
    given = {**enrolment(2, 15, ["邻里守望"]), "clientMutationId": "phone-42-0001"}
    first = await send(gw, ENROL, given, "committee_staff")
    assert first["data"]["enrolVolunteer"]["clientMutationId"] == "phone-42-0001"
    response = await gw.post(ENROL, {"input": given}, "committee_staff")
    assert response.headers.get("Idempotent-Replayed") == "true" and response.json() == first
    volunteers, patrols, members, events = before
    assert await snapshot(gw) == (volunteers + 1, patrols, members, events + 1)

    changed = await send(gw, ENROL, {**given, "skills": ["反诈宣传"]}, "committee_staff")
    assert code_of(changed) == "CONFLICT"
    assert await scalars(gw, select(t.Volunteer.skills).where(t.Volunteer.resident_id == 2)) == ["邻里守望"]


# ---------------------------------------------------------------------- patrols


async def test_a_patrol_is_scheduled_once_with_its_crew(gw: Gateway) -> None:
    before = await snapshot(gw)
    body = await send(gw, SCHEDULE, shift(15, [8, 11, 8], EVENING), "community_police")
    patrol = body["data"]["schedulePatrol"]["patrol"]
    assert patrol["members"] == [{"id": encode_id("Volunteer", 8)}, {"id": encode_id("Volunteer", 11)}]
    assert patrol["grid"] == {"name": "品湖苑社区第一网格"}

    duplicate = await send(gw, SCHEDULE, shift(15, [8], EVENING), "community_police")
    assert code_of(duplicate) == "CONFLICT" and duplicate["errors"][0]["extensions"]["id"] == patrol["id"]

    volunteers, patrols, members, events = before
    assert await snapshot(gw) == (volunteers, patrols + 1, members + 2, events + 1)
    pk = decode_pk(patrol["id"], "Patrol")
    crew = select(t.PatrolMember.volunteer_id).where(t.PatrolMember.patrol_id == pk).order_by(t.PatrolMember.id)
    assert await scalars(gw, crew) == [8, 11]


async def test_a_volunteer_of_another_team_cannot_join_a_shift(gw: Gateway) -> None:
    other = await send(gw, ENROL, enrolment(3, 15, ["邻里守望"], team=HEYUAN_TEAM), "committee_staff")
    outsider = decode_pk(other["data"]["enrolVolunteer"]["volunteer"]["id"], "Volunteer")
    before = await snapshot(gw)
    body = await send(gw, SCHEDULE, shift(15, [8, outsider], EVENING + timedelta(days=1)), "community_police")
    assert code_of(body) == "BAD_USER_INPUT" and body["errors"][0]["extensions"]["argument"] == "input.volunteerIds[1]"
    assert await snapshot(gw) == before


@pytest.mark.parametrize(
    ("change", "argument", "code"),
    [
        ({"endsAt": (EVENING - timedelta(hours=1)).isoformat()}, "input.endsAt", "BAD_USER_INPUT"),
        ({"endsAt": EVENING.isoformat()}, "input.endsAt", "BAD_USER_INPUT"),
        ({"endsAt": (EVENING + timedelta(hours=30)).isoformat()}, "input.endsAt", "BAD_USER_INPUT"),
        ({"startsAt": "2026-12-02T18:30:00"}, "input.startsAt", "BAD_USER_INPUT"),
        ({"route": ""}, "input.route", "BAD_USER_INPUT"),
        ({"volunteerIds": []}, "input.volunteerIds", "BAD_USER_INPUT"),
        ({"volunteerIds": [encode_id("Volunteer", 1)]}, "input.volunteerIds[0]", "NOT_FOUND"),  # 滨海新区: hidden
        ({"volunteerIds": [encode_id("Volunteer", 99999)]}, "input.volunteerIds[0]", "NOT_FOUND"),
        ({"teamId": encode_id("VolunteerTeam", 999)}, "input.teamId", "NOT_FOUND"),
    ],
)
async def test_bad_shifts_are_refused_and_write_nothing(
    gw: Gateway, change: dict[str, Any], argument: str, code: str
) -> None:
    before = await snapshot(gw)
    body = await send(gw, SCHEDULE, {**shift(15, [8], EVENING + timedelta(days=2)), **change}, "community_police")
    assert code_of(body) == code, body
    assert body["errors"][0]["extensions"]["argument"] == argument
    assert await snapshot(gw) == before


async def test_scheduling_outside_ones_area_is_forbidden(gw: Gateway) -> None:
    before = await snapshot(gw)
    body = await send(gw, SCHEDULE, shift(18, [8], EVENING + timedelta(days=3)), "committee_staff")
    assert code_of(body) == "FORBIDDEN"
    assert await snapshot(gw) == before


# ---------------------------------------------------------------------- grid assignment


async def test_assigning_outside_ones_area(gw: Gateway) -> None:
    before = await snapshot(gw)
    to_another_community = {"volunteerId": encode_id("Volunteer", 8), "gridId": grid(18)}
    assert code_of(await send(gw, ASSIGN, to_another_community, "committee_staff")) == "FORBIDDEN"
    from_elsewhere = {"volunteerId": encode_id("Volunteer", 1), "gridId": grid(15)}  # 滨海新区: hidden
    assert code_of(await send(gw, ASSIGN, from_elsewhere, "committee_staff")) == "NOT_FOUND"
    assert await snapshot(gw) == before
    assert await scalars(
        gw, select(t.Volunteer.grid_id).where(t.Volunteer.id.in_([1, 8])).order_by(t.Volunteer.id)
    ) == [
        26,
        15,
    ]


# ---------------------------------------------------------------------- the change feed


async def last_event(gw: Gateway) -> str:
    async with gw.runtime.databases.session("volunteer") as session:
        last = (await session.execute(select(func.coalesce(func.max(t.VolunteerOutbox.id), 0)))).scalar_one()
    return f"volunteer:{last}"


async def test_subscribers_see_changes_in_their_own_area_only(gw: Gateway) -> None:
    changed = "subscription($after: String) { volunteerChanged(afterEvent: $after) { kind volunteer { id skills } } }"
    scheduled = "subscription($after: String) { patrolScheduled(afterEvent: $after) { kind patrol { route } } }"
    after = {"after": await last_event(gw)}
    committee, police = gw.tokens["committee_staff"], gw.tokens["community_police"]
    async with (
        serving(gw) as url,
        subscribed(url, committee, changed, after) as volunteers,
        subscribed(url, police, scheduled, after) as patrols,
    ):
        # In grid 18 first: police.demo's, not the committee's.
        assert "errors" not in await send(gw, ENROL, enrolment(17, 18, ["交通劝导"]), "community_police")
        mine = await send(gw, ENROL, enrolment(4, 16, ["应急救护"]), "committee_staff")
        assert "errors" not in await send(gw, SCHEDULE, shift(16, [8], EVENING + timedelta(days=4)), "committee_staff")

        event = (await volunteers())["payload"]["data"]["volunteerChanged"]
        enrolled = mine["data"]["enrolVolunteer"]["volunteer"]["id"]
        assert event == {"kind": "enrolled", "volunteer": {"id": enrolled, "skills": "应急救护"}}
        patrol = (await patrols())["payload"]["data"]["patrolScheduled"]
        assert patrol == {"kind": "scheduled", "patrol": {"route": "品湖苑3号楼—5号楼—中心花园"}}


async def test_a_profile_written_meanwhile_is_updated_not_duplicated(gw: Gateway) -> None:
    """Another phone's enrolment commits between this one's look-up and its insert: the unique
    index refuses the second profile, and the enrolment updates the one now there."""
    async with gw.runtime.databases.session("volunteer") as session, session.begin():
        session.add(t.Volunteer(resident_id=10, team_id=4, grid_id=16, skills="", joined_on=EVENING.date()))
        await session.flush()
        enrolling = asyncio.create_task(send(gw, ENROL, enrolment(10, 16, ["巡逻防控"]), "committee_staff"))
        # Long enough for the request to find no profile and wait on the index (or the write lock).
        await asyncio.sleep(0.5)
    body = await enrolling
    assert "errors" not in body, body
    assert await scalars(gw, select(t.Volunteer.skills).where(t.Volunteer.resident_id == 10)) == ["巡逻防控"]
