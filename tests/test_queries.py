"""The unified schema answers queries across all five domains, through their links."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.harness import Gateway

ALL_DOMAINS = """
query AllDomains {
  me { id role area { kind } }
  grids(first: 50) {
    totalCount
    nodes {
      id code name riskColour
      community { name street { name district { code name } } }
      policeGrid { code station officers { name } }
      gridWorker { name }
      officer { name }
      residents(first: 50) {
        totalCount
        nodes {
          id name idNumber registrationKind
          household { number members(first: 10) { totalCount } }
          disputes(first: 5) { nodes { code parties { name role resident { name } } } }
          vehicles { plate }
          volunteerProfile { team { name brand } }
        }
      }
      disputes(first: 20) { totalCount nodes { title status category agreement { amount viaJudicialOffice } } }
      volunteers(first: 20) { nodes { skills resident { name } team { brand } } }
    }
  }
  plateAlerts(first: 20) {
    nodes {
      kind status
      capture { plate observedType location vehicle { plate } }
      vehicle { plate owner { name grid { name } } }
      dispatchedTo { name }
      violations { fineYuan points detentionDays }
    }
  }
}
"""


def _nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return list(connection["nodes"])


async def test_one_query_touches_all_five_domains(gw: Gateway) -> None:
    data = await gw.query(ALL_DOMAINS)
    assert data["me"]["role"] == "city_analyst"
    grids = _nodes(data["grids"])
    assert grids and data["grids"]["totalCount"] >= len(grids)
    residents = [r for g in grids for r in _nodes(g["residents"])]
    assert residents, "demo grids hold residents"
    # population → dispute (a resident's disputes, whose parties link back to residents)
    parties = [p for r in residents for d in _nodes(r["disputes"]) for p in d["parties"]]
    assert any(p["resident"] is not None for p in parties)
    # population → traffic and → volunteer
    assert any(r["vehicles"] for r in residents)
    assert any(r["volunteerProfile"] for r in residents)
    # grid → police grid, staff, disputes, volunteers
    assert any(g["policeGrid"] and g["officer"] for g in grids)
    assert any(_nodes(g["volunteers"]) for g in grids)
    assert any(_nodes(g["disputes"]) for g in grids)
    # traffic → population → grid
    owners = [a["vehicle"]["owner"] for a in _nodes(data["plateAlerts"]) if a["vehicle"]]
    assert any(o and o["grid"] for o in owners)


async def test_the_burst_pipe_settled_for_9000_yuan_through_the_judicial_office(gw: Gateway) -> None:
    data = await gw.query(
        "{ disputes(first: 100, filter: {category: PROPERTY_DAMAGE}) { nodes { status agreement { amount viaJudicialOffice } } } }"
    )
    agreements = [d["agreement"] for d in data["disputes"]["nodes"] if d["agreement"]]
    assert any(Decimal(str(a["amount"])) == Decimal(9000) and a["viaJudicialOffice"] for a in agreements)


async def test_the_altered_plate_was_intercepted_with_its_penalty(gw: Gateway) -> None:
    data = await gw.query(
        "{ plateAlerts(filter: {kind: ALTERED}) { nodes { status interceptLocation capture { location } "
        "violations { fineYuan points detentionDays } } } }"
    )
    alerts = data["plateAlerts"]["nodes"]
    assert alerts
    # Intercepted, then closed by its penalty.
    intercepted = [a for a in alerts if a["status"] == "CLOSED" and a["interceptLocation"]]
    assert intercepted and "天津大道" in intercepted[0]["capture"]["location"]
    penalties = intercepted[0]["violations"]
    assert [(Decimal(str(v["fineYuan"])), v["points"], v["detentionDays"]) for v in penalties] == [
        (Decimal(5000), 12, 15)
    ]


async def test_sixteen_districts_with_gbt2260_codes(gw: Gateway) -> None:
    data = await gw.query("{ districts(first: 100) { totalCount nodes { code name } } }")
    codes = sorted(d["code"] for d in data["districts"]["nodes"])
    assert data["districts"]["totalCount"] == 16
    assert codes[0] == "120101" and all(c.startswith("1201") for c in codes)


async def test_node_round_trips_every_root_list(gw: Gateway) -> None:
    data = await gw.query(
        "{ residents(first: 1) { nodes { id name } } disputes(first: 1) { nodes { id title } }"
        " grids(first: 1) { nodes { id name } } vehicles(first: 1) { nodes { id plate } }"
        " volunteers(first: 1) { nodes { id skills } } volunteerTeams(first: 1) { nodes { id name } }"
        " households(first: 1) { nodes { id number } } policeGrids(first: 1) { nodes { id code } } }"
    )
    for root, connection in data.items():
        node = connection["nodes"][0]
        fetched = await gw.query("query($id: ID!) { node(id: $id) { id __typename } }", {"id": node["id"]})
        assert fetched["node"]["id"] == node["id"], root


async def test_resident_by_id_number_and_by_id_agree(gw: Gateway) -> None:
    first = (await gw.query("{ residents(first: 1) { nodes { id idNumber name } } }"))["residents"]["nodes"][0]
    by_number = await gw.query(
        "query($n: String!) { residentByIdNumber(idNumber: $n) { id } }", {"n": first["idNumber"]}
    )
    by_id = await gw.query("query($id: ID!) { resident(id: $id) { idNumber } }", {"id": first["id"]})
    assert by_number["residentByIdNumber"]["id"] == first["id"]
    assert by_id["resident"]["idNumber"] == first["idNumber"]


async def test_missing_row_reads_as_null(gw: Gateway) -> None:
    from gateway.data import encode_id

    data = await gw.query(
        "query($id: ID!) { node(id: $id) { id } resident(id: $id) { id } }",
        {"id": encode_id("Resident", 987654321)},
    )
    assert data == {"node": None, "resident": None}
