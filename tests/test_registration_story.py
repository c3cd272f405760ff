"""张大爷家需要进行人口登记: the grid worker collects a registration, the officer's phone prompts the
review, the officer returns it (the flat number is wrong), the grid worker's phone prompts the
correction, and the grid worker resubmits it by its ID — without typing the ID number again, which
a grid worker may not even read — until the officer approves it into a resident record."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from gateway.data import decode_pk, encode_id
from resolvers.population import idnumber
from tests.harness import Gateway, database_url, running_gateway

REGISTER = """
mutation($input: RegisterResidentInput!) { registerResident(input: $input) { registration { id status version } } }
"""
REGISTRATION = "{ id status version address reviewNote collector { name } resident { address } }"
REVIEW = f"""
mutation($input: ReviewRegistrationInput!) {{ reviewRegistration(input: $input) {{ registration {REGISTRATION} }} }}
"""
# The registration's own birth date (of its ID number) and another.
DAYS = ("1951-03-02", "1900-01-01")
RESUBMIT = f"""
mutation($input: ResubmitRegistrationInput!) {{ resubmitRegistration(input: $input) {{ registration {REGISTRATION} }} }}
"""
TASKS = "{ myTasks(first: 50) { nodes { id kind } } }"
NUMBER = idnumber.make("120112", date(1951, 3, 2), 2 * 41 + 1)  # 张大爷, not yet on record


@pytest.fixture(scope="module")
def story_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("registration"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(story_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*story_url) as gateway:
        yield gateway


async def _tasks(gw: Gateway, role: str, pk: int) -> list[str]:
    nodes = (await gw.query(TASKS, role=role))["myTasks"]["nodes"]
    return [n["kind"] for n in nodes if n["id"].startswith(f"ResidentRegistration:{pk}:")]


async def _mutate(gw: Gateway, mutation: str, given: dict[str, Any], role: str) -> Any:
    body = (await gw.post(mutation, {"input": given}, role)).json()
    return body


async def _collected(gw: Gateway) -> tuple[str, int]:
    given = {
        "idNumber": NUMBER,
        "name": "张福顺",
        "gender": "MALE",
        "address": "津南区八里台镇品湖苑3号楼2门7001",
        "building": "津南区八里台镇品湖苑3号楼",
        "registrationKind": "REGISTERED",
    }
    data = await gw.query(REGISTER, {"input": given}, role="grid_worker")
    ident = data["registerResident"]["registration"]["id"]
    return ident, decode_pk(ident, "ResidentRegistration")


async def test_a_returned_registration_is_corrected_and_resubmitted_by_its_collector(gw: Gateway) -> None:
    ident, pk = await _collected(gw)
    assert await _tasks(gw, "community_police", pk) == ["REGISTRATION_TO_REVIEW"]

    returned = await _mutate(
        gw, REVIEW, {"registrationId": ident, "decision": "RETURN", "reason": "门牌号有误"}, "community_police"
    )
    registration = returned["data"]["reviewRegistration"]["registration"]
    assert (registration["status"], registration["collector"]) == ("RETURNED", {"name": "刘婷"})
    assert await _tasks(gw, "community_police", pk) == []
    assert await _tasks(gw, "grid_worker", pk) == ["REGISTRATION_TO_CORRECT"]

    # Only the collector corrects it; others in the area see it but may not resubmit it.
    version = registration["version"]
    correction = {"registrationId": ident, "expectedVersion": version, "address": "津南区八里台镇品湖苑3号楼2门701"}
    other = await _mutate(gw, RESUBMIT, correction, "committee_staff")
    assert other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    stale = await _mutate(gw, RESUBMIT, correction | {"expectedVersion": 7}, "grid_worker")
    assert stale["errors"][0]["extensions"]["code"] == "CONFLICT"
    wrong = await _mutate(gw, RESUBMIT, correction | {"gender": "FEMALE"}, "grid_worker")
    assert wrong["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", wrong
    # A birth date alone would be a yes-or-no question about the stored number the collector no
    # longer reads: refused whatever the date, the same words for the right date and a wrong one.
    guesses = [await _mutate(gw, RESUBMIT, correction | {"birthDate": day}, "grid_worker") for day in DAYS]
    assert len({str(g["errors"][0]) for g in guesses}) == 1, guesses
    assert guesses[0]["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "argument": "input.birthDate"}

    resubmitted = (await _mutate(gw, RESUBMIT, correction, "grid_worker"))["data"]["resubmitRegistration"]
    registration = resubmitted["registration"]
    assert (registration["status"], registration["version"]) == ("PENDING_REVIEW", version + 1)
    assert registration["address"] == "津南区八里台镇品湖苑3号楼2门701"
    assert await _tasks(gw, "grid_worker", pk) == []
    assert await _tasks(gw, "community_police", pk) == ["REGISTRATION_TO_REVIEW"]
    again = await _mutate(gw, RESUBMIT, correction | {"expectedVersion": version + 1}, "grid_worker")
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"

    approved = await _mutate(gw, REVIEW, {"registrationId": ident, "decision": "APPROVE"}, "community_police")
    registration = approved["data"]["reviewRegistration"]["registration"]
    assert registration["status"] == "APPROVED"
    assert registration["resident"] == {"address": "津南区八里台镇品湖苑3号楼2门701"}
    assert await _tasks(gw, "community_police", pk) == []


async def test_a_registration_out_of_sight_reads_as_missing(gw: Gateway) -> None:
    hidden = {"registrationId": encode_id("ResidentRegistration", 999_999), "address": "x"}
    body = await _mutate(gw, RESUBMIT, hidden, "grid_worker")
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
