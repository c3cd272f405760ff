"""Name searches match only names the reader reads in clear: a dispute's parties, a volunteer's record.

Each search is checked against the names the same reader gets back: for every role and every name
the city analyst can read, the search finds exactly the rows where that reader reads the name —
so a withheld or masked name is never matched, and a search tells nothing a listing would not.
"""

from __future__ import annotations

from typing import Any

from gateway.kernel import load_registry
from gateway.policy import Attributes, reads_in_clear
from tests.harness import Gateway
from tests.test_role_snapshots import POLICIES

ATTRIBUTES = Attributes.of(load_registry().domains)
DISPUTES = "query($f: DisputeFilter) { disputes(first: 50, filter: $f) { nodes { id parties { name } } } }"
VOLUNTEERS = "query($f: VolunteerFilter) { volunteers(first: 50, filter: $f) { nodes { id resident { name } } } }"


def _fragments(names: list[str]) -> list[str]:
    """Probes: each whole name and its surname, the searches a front-end sends."""
    return sorted({n for name in names for n in (name, name[0])})


async def test_party_name_search_finds_what_each_role_reads_of_the_parties(gw: Gateway) -> None:
    everything = (await gw.query(DISPUTES))["disputes"]["nodes"]
    probes = _fragments([p["name"] for d in everything for p in d["parties"] if p["name"]])[:40]
    assert probes
    checked = 0
    for role in ("city_analyst", "committee_staff", "grid_worker", "community_police", "judicial_office"):
        if not reads_in_clear(POLICIES.roles[role], ATTRIBUTES, ["DisputeParty.name"]):
            continue
        seen = (await gw.query(DISPUTES, role=role))["disputes"]["nodes"]
        for probe in probes:
            expected = {d["id"] for d in seen if any(probe in (p["name"] or "") for p in d["parties"])}
            found = (await gw.query(DISPUTES, {"f": {"partyName": probe}}, role=role))["disputes"]["nodes"]
            assert {d["id"] for d in found} == expected, (role, probe)
            checked += bool(expected)
    assert checked > 10


async def test_a_party_whose_name_is_withheld_from_the_reader_is_not_found_by_name(gw: Gateway) -> None:
    """Committee staff read a linked party outside their community as nothing (withheld): searching
    that party's name — which the analyst reads — finds nothing for them."""
    seen = (await gw.query(DISPUTES, role="committee_staff"))["disputes"]["nodes"]
    withheld = [d["id"] for d in seen if any(p["name"] is None for p in d["parties"])]
    assert withheld, "the demo data holds a dispute whose parties committee staff cannot read"
    names = {d["id"]: [p["name"] for p in d["parties"]] for d in (await gw.query(DISPUTES))["disputes"]["nodes"]}
    for dispute in withheld:
        for name in names[dispute]:
            found = (await gw.query(DISPUTES, {"f": {"partyName": name}}, role="committee_staff"))["disputes"]
            assert dispute not in {d["id"] for d in found["nodes"]}, name


async def test_volunteer_name_search_finds_what_each_role_reads_on_the_record(gw: Gateway) -> None:
    everything = (await gw.query(VOLUNTEERS))["volunteers"]["nodes"]
    probes = _fragments([v["resident"]["name"] for v in everything if v["resident"] and v["resident"]["name"]])[:30]
    checked = 0
    for role in ("city_analyst", "committee_staff", "grid_worker", "community_police"):
        if not reads_in_clear(POLICIES.roles[role], ATTRIBUTES, ["Resident.name"]):
            continue
        seen = (await gw.query(VOLUNTEERS, role=role))["volunteers"]["nodes"]
        for probe in probes:
            expected = {v["id"] for v in seen if v["resident"] and probe in (v["resident"]["name"] or "")}
            found = (await gw.query(VOLUNTEERS, {"f": {"name": probe}}, role=role))["volunteers"]["nodes"]
            assert {v["id"] for v in found} == expected, (role, probe)
            checked += bool(expected)
    assert checked > 5


async def test_a_name_search_the_role_cannot_make_is_absent(gw: Gateway) -> None:
    """The judicial office reads parties' names but no resident records: it may search parties by
    name, and has no volunteer list to search at all."""
    body: dict[str, Any] = (await gw.post(VOLUNTEERS, {"f": {"name": "王"}}, "judicial_office")).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert (await gw.query(DISPUTES, {"f": {"partyName": "王"}}, role="judicial_office"))["disputes"] is not None


async def test_mediators_filter_by_kind_organisation_and_name(gw: Gateway) -> None:
    query = "query($f: MediatorFilter) { mediators(first: 50, filter: $f) { nodes { name kind organisation } } }"
    everything = (await gw.query(query))["mediators"]["nodes"]
    assert everything
    first = everything[0]
    expected: dict[str, tuple[str, list[Any]]] = {
        "kind": (first["kind"], [m for m in everything if m["kind"] == first["kind"]]),
        "organisation": (
            first["organisation"][:2],
            [m for m in everything if first["organisation"][:2] in m["organisation"]],
        ),
        "search": (first["name"][:1], [m for m in everything if first["name"][:1] in m["name"]]),
    }
    for key, (value, matching) in expected.items():
        found = (await gw.query(query, {"f": {key: value}}))["mediators"]["nodes"]
        assert found == matching, key


async def test_root_lists_of_captures_and_staff_page_and_order(gw: Gateway) -> None:
    captures = "{ captures(first: 50, orderBy: {capturedAt: DESC}) { totalCount nodes { plate capturedAt } } }"
    data = (await gw.query(captures))["captures"]
    times = [c["capturedAt"] for c in data["nodes"]]
    assert data["totalCount"] >= len(times) > 0 and times == sorted(times, reverse=True)
    staff = "query($f: StaffFilter) { staff(first: 50, orderBy: {name: ASC}, filter: $f) { nodes { name role } } }"
    for role in ("city_analyst", "grid_worker", "committee_staff"):
        nodes = (await gw.query(staff, role=role))["staff"]["nodes"]
        assert nodes
        officers = (await gw.query(staff, {"f": {"role": "community_police"}}, role=role))["staff"]["nodes"]
        assert officers == [n for n in nodes if n["role"] == "community_police"]
