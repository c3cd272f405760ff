"""The pages measured, written once for each server: the gateway's GraphQL, PostGraphile's
equivalent (its own naming), and the floor's plain endpoint. Each server's answer is reduced to
the same comparable rows, so a run first checks that all three return the same data. Some pages
also go through the federated gateway (six subgraphs behind Hive Gateway), with the gateway's own
request and the router of the caller's role: the cost of the router hop."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

GATEWAY, POSTGRAPHILE, FLOOR = "gateway", "PostGraphile 5", "floor"
SERVERS = (GATEWAY, POSTGRAPHILE, FLOOR)
ROUTER = "gateway via router"

Rows = Any  # JSON-comparable: lists and tuples of ids, names, counts


@dataclass(frozen=True)
class Call:
    """One HTTP request; ``{unique}`` in the body is replaced per request by the load generator."""

    method: str
    path: str
    body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def with_body(self, document: dict[str, Any]) -> Call:
        return Call(self.method, self.path, json.dumps(document, ensure_ascii=False), self.headers)


@dataclass(frozen=True)
class Scenario:
    name: str
    clients: int
    calls: dict[str, Call]
    rows: dict[str, Callable[[dict[str, Any]], Rows]]
    # Also measured through the router of the role the gateway's token carries.
    routed: bool = False
    # The tables the page writes: analyzed after each measurement (see run.compare).
    writes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Identities:
    """Who asks: the gateway's tokens, PostGraphile's JWTs, the floor's headers, and the grid worker's facts."""

    gateway_grid_worker: str
    gateway_analyst: str
    postgraphile_grid_worker: str
    postgraphile_analyst: str
    grid: int
    street: int
    staff: int
    gateway_officer: str
    gateway_committee: str
    postgraphile_officer: str
    postgraphile_committee: str
    officer_staff: int
    officer_grids: tuple[int, ...]
    committee_grids: tuple[int, ...]
    committee_street_grids: tuple[int, ...]


def _decoded(global_id: str) -> str:
    return base64.urlsafe_b64decode(global_id + "=" * (-len(global_id) % 4)).decode()


def pk(global_id: str) -> int:
    return int(_decoded(global_id).rpartition(":")[2])


def _utc(moment: str) -> str:
    """The same instant, written the same way, whatever time zone a server answered in."""
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}


def _graphql(token: str, query: str, variables: dict[str, Any] | None = None) -> Call:
    return Call("POST", "/graphql", headers=_bearer(token)).with_body({"query": query, "variables": variables or {}})


def _floor_headers(who: Identities) -> dict[str, str]:
    return {
        "X-Grid-Id": str(who.grid),
        "X-Street-Id": str(who.street),
        "X-Staff-Id": str(who.staff),
        "Content-Type": "application/json",
    }


def _area_headers(grids: tuple[int, ...], street_grids: tuple[int, ...] = (), staff: int = 0) -> dict[str, str]:
    return {
        "X-Grids": ",".join(map(str, grids)),
        "X-Street-Grids": ",".join(map(str, street_grids)),
        "X-Staff-Id": str(staff),
        "Content-Type": "application/json",
    }


# The grid worker's page ------------------------------------------------------------------------

GRID_WORKER_GATEWAY = "{ residents(first: 20) { totalCount nodes { id name address ageBand household { number } } } }"
GRID_WORKER_POSTGRAPHILE = (
    "{ allResidentCards(first: 20, orderBy: PRIMARY_KEY_ASC) { totalCount"
    " nodes { rowId name address ageBand householdByHouseholdId { number } } } }"
)


def _card(id: int, node: dict[str, Any], household: dict[str, Any] | None) -> Rows:
    return [id, node["name"], node["address"], node["ageBand"], None if household is None else household["number"]]


def grid_worker_rows_gateway(answer: dict[str, Any]) -> Rows:
    page = answer["data"]["residents"]
    return [page["totalCount"], [_card(pk(n["id"]), n, n["household"]) for n in page["nodes"]]]


def grid_worker_rows_postgraphile(answer: dict[str, Any]) -> Rows:
    page = answer["data"]["allResidentCards"]
    return [page["totalCount"], [_card(n["rowId"], n, n["householdByHouseholdId"]) for n in page["nodes"]]]


# The officer's task list (我的待办) ---------------------------------------------------------------

TASKS_GATEWAY = "{ myTasks(first: 20) { totalCount nodes { kind title urgency createdAt subjectId } } }"
TASKS_POSTGRAPHILE = "{ officerTasks(first: 20) { totalCount nodes { kind title urgency since recordType recordId } } }"


def _task(kind: str, urgency: int, title: str, since: str, record_type: str, record_id: int) -> Rows:
    return [kind, urgency, title, _utc(since), record_type, record_id]


def task_rows_gateway(answer: dict[str, Any]) -> Rows:
    page = answer["data"]["myTasks"]
    nodes = []
    for n in page["nodes"]:
        record_type, _, record_id = _decoded(n["subjectId"]).partition(":")
        nodes.append(_task(n["kind"], n["urgency"], n["title"], n["createdAt"], record_type, int(record_id)))
    return [page["totalCount"], nodes]


def task_rows_postgraphile(answer: dict[str, Any]) -> Rows:
    page = answer["data"]["officerTasks"]
    nodes = page["nodes"]
    return [
        page["totalCount"],
        [_task(n["kind"], n["urgency"], n["title"], n["since"], n["recordType"], n["recordId"]) for n in nodes],
    ]


# The committee's statistics page (居民 / 纠纷 / 网格统计) -----------------------------------------

STATS_GATEWAY = """{ residentStats { total byAgeBand { key count } byRegistrationKind { key count }
    byGender { key count } }
  disputeStats { total byCategory { key count } byStatus { key count } }
  gridStats { total byRiskColour { key count } } }"""
STATS_POSTGRAPHILE = """{ residentStats { nodes { dimension key count } }
  disputeStats { nodes { dimension key count } } gridStats { nodes { dimension key count } } }"""
STATISTICS = ("residentStats", "disputeStats", "gridStats")


def stats_rows_gateway(answer: dict[str, Any]) -> Rows:
    rows = []
    for statistic in STATISTICS:
        found = answer["data"][statistic]
        rows.append([statistic, "total", "", found["total"]])
        for name, buckets in found.items():
            if name != "total":
                dimension = name.removeprefix("by")
                rows += [[statistic, dimension[0].lower() + dimension[1:], b["key"], b["count"]] for b in buckets]
    return sorted(rows)


def stats_rows_postgraphile(answer: dict[str, Any]) -> Rows:
    rows = []
    for statistic in STATISTICS:
        for n in answer["data"][statistic]["nodes"]:
            rows.append([statistic, n["dimension"], n["key"], int(n["count"])])
    return sorted(rows)


# The analyst's whole-city page ------------------------------------------------------------------

CITY_GATEWAY = "{ residents(first: 20) { totalCount nodes { id name } } }"
CITY_POSTGRAPHILE = "{ allResidents(first: 20, orderBy: PRIMARY_KEY_ASC) { totalCount nodes { rowId name } } }"


def city_rows_gateway(answer: dict[str, Any]) -> Rows:
    page = answer["data"]["residents"]
    return [page["totalCount"], [[pk(n["id"]), n["name"]] for n in page["nodes"]]]


def city_rows_postgraphile(answer: dict[str, Any]) -> Rows:
    page = answer["data"]["allResidents"]
    return [page["totalCount"], [[n["rowId"], n["name"]] for n in page["nodes"]]]


# The analyst's nested page ---------------------------------------------------------------------

NESTED_GATEWAY = """{ grids(first: 50) { totalCount nodes { id name
  residents(first: 50) { totalCount nodes { id name idNumber household { number }
    disputes(first: 5) { nodes { id title } } } } } } }"""
NESTED_POSTGRAPHILE = """{ allGrids(first: 50, orderBy: PRIMARY_KEY_ASC) { totalCount nodes { rowId name
  residentsByGridId(first: 50, orderBy: PRIMARY_KEY_ASC) { totalCount nodes { rowId name idNumber
    householdByHouseholdId { number }
    disputePartiesByResidentId(first: 5, orderBy: DISPUTE_ID_ASC) {
      nodes { disputeByDisputeId { rowId title } } } } } } } }"""


def nested_rows_gateway(answer: dict[str, Any]) -> Rows:
    grids = answer["data"]["grids"]
    return [
        grids["totalCount"],
        [
            [
                pk(g["id"]),
                g["name"],
                g["residents"]["totalCount"],
                [
                    [pk(r["id"]), r["name"], r["idNumber"], [pk(d["id"]) for d in r["disputes"]["nodes"]]]
                    for r in g["residents"]["nodes"]
                ],
            ]
            for g in grids["nodes"]
        ],
    ]


def nested_rows_postgraphile(answer: dict[str, Any]) -> Rows:
    grids = answer["data"]["allGrids"]
    return [
        grids["totalCount"],
        [
            [
                g["rowId"],
                g["name"],
                g["residentsByGridId"]["totalCount"],
                [
                    [
                        r["rowId"],
                        r["name"],
                        r["idNumber"],
                        [p["disputeByDisputeId"]["rowId"] for p in r["disputePartiesByResidentId"]["nodes"]],
                    ]
                    for r in g["residentsByGridId"]["nodes"]
                ],
            ]
            for g in grids["nodes"]
        ],
    ]


# The export, a page of 100 at a time -----------------------------------------------------------

EXPORT_GATEWAY = """query Export($after: String) { residents(first: 100, after: $after) {
  pageInfo { hasNextPage endCursor } nodes { id name idNumber address } } }"""
EXPORT_POSTGRAPHILE = """query Export($after: Cursor) {
  allResidents(first: 100, after: $after, orderBy: PRIMARY_KEY_ASC) {
  pageInfo { hasNextPage endCursor } nodes { rowId name idNumber address } } }"""


@dataclass(frozen=True)
class ExportPage:
    ids: list[int]
    names: list[str]
    end_cursor: str | None
    has_next: bool


def export_call(server: str, who: Identities, after: str | None) -> Call:
    if server == GATEWAY:
        return _graphql(who.gateway_analyst, EXPORT_GATEWAY, {"after": after})
    if server == POSTGRAPHILE:
        return _graphql(who.postgraphile_analyst, EXPORT_POSTGRAPHILE, {"after": after})
    return Call("GET", "/export" + ("" if after is None else f"?after={after}"))


def export_page(server: str, answer: dict[str, Any]) -> ExportPage:
    page = answer["data"]["allResidents" if server == POSTGRAPHILE else "residents"]
    nodes = page["nodes"]
    ids = [n["rowId"] if server == POSTGRAPHILE else pk(n["id"]) for n in nodes]
    info = page["pageInfo"]
    return ExportPage(ids, [n["name"] for n in nodes], info["endCursor"], bool(info["hasNextPage"]))


# A write: the grid worker reports a dispute ----------------------------------------------------

REPORT_GATEWAY = """mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id } } }"""
REPORT_POSTGRAPHILE = """mutation Report($dispute: DisputeInput!) {
  createDispute(input: {dispute: $dispute}) { dispute { rowId } } }"""
TITLE, DESCRIPTION = "楼道堆物占道", "三楼住户在楼道堆放杂物,邻居投诉占用消防通道。"


def reported_rows(answer: dict[str, Any]) -> Rows:
    data = answer["data"]
    dispute = (data.get("reportDispute") or data.get("createDispute") or {}).get("dispute")
    return dispute is not None


def scenarios(who: Identities) -> list[Scenario]:
    return [
        Scenario(
            "grid worker's page (20 residents)",
            10,
            {
                GATEWAY: _graphql(who.gateway_grid_worker, GRID_WORKER_GATEWAY),
                POSTGRAPHILE: _graphql(who.postgraphile_grid_worker, GRID_WORKER_POSTGRAPHILE),
                FLOOR: Call("GET", "/grid-worker-page", headers=_floor_headers(who)),
            },
            {
                GATEWAY: grid_worker_rows_gateway,
                POSTGRAPHILE: grid_worker_rows_postgraphile,
                FLOOR: grid_worker_rows_gateway,
            },
            routed=True,
        ),
        Scenario(
            "officer's task list (20 tasks)",
            10,
            {
                GATEWAY: _graphql(who.gateway_officer, TASKS_GATEWAY),
                POSTGRAPHILE: _graphql(who.postgraphile_officer, TASKS_POSTGRAPHILE),
                FLOOR: Call("GET", "/officer-tasks", headers=_area_headers(who.officer_grids, (), who.officer_staff)),
            },
            {GATEWAY: task_rows_gateway, POSTGRAPHILE: task_rows_postgraphile, FLOOR: task_rows_gateway},
        ),
        Scenario(
            "committee's statistics page (residents, disputes, grids)",
            10,
            {
                GATEWAY: _graphql(who.gateway_committee, STATS_GATEWAY),
                POSTGRAPHILE: _graphql(who.postgraphile_committee, STATS_POSTGRAPHILE),
                FLOOR: Call(
                    "GET", "/committee-stats", headers=_area_headers(who.committee_grids, who.committee_street_grids)
                ),
            },
            {GATEWAY: stats_rows_gateway, POSTGRAPHILE: stats_rows_postgraphile, FLOOR: stats_rows_gateway},
            routed=True,
        ),
        Scenario(
            "analyst's whole-city page (20 residents of all, totalCount)",
            10,
            {
                GATEWAY: _graphql(who.gateway_analyst, CITY_GATEWAY),
                POSTGRAPHILE: _graphql(who.postgraphile_analyst, CITY_POSTGRAPHILE),
                FLOOR: Call("GET", "/city-page"),
            },
            {GATEWAY: city_rows_gateway, POSTGRAPHILE: city_rows_postgraphile, FLOOR: city_rows_gateway},
        ),
        Scenario(
            "analyst's nested page (50 grids × 50 residents × disputes)",
            2,
            {
                GATEWAY: _graphql(who.gateway_analyst, NESTED_GATEWAY),
                POSTGRAPHILE: _graphql(who.postgraphile_analyst, NESTED_POSTGRAPHILE),
                FLOOR: Call("GET", "/nested-page?n=50"),
            },
            {GATEWAY: nested_rows_gateway, POSTGRAPHILE: nested_rows_postgraphile, FLOOR: nested_rows_gateway},
        ),
        Scenario(
            "grid worker reports a dispute (a write)",
            10,
            {
                GATEWAY: _graphql(
                    who.gateway_grid_worker,
                    REPORT_GATEWAY,
                    {
                        "input": {
                            "title": TITLE,
                            "category": "NEIGHBOUR",
                            "description": DESCRIPTION,
                            "parties": [{"role": "COMPLAINANT", "name": "王秀英"}],
                        }
                    },
                ),
                POSTGRAPHILE: _graphql(
                    who.postgraphile_grid_worker,
                    REPORT_POSTGRAPHILE,
                    {
                        "dispute": {
                            "code": "PG{unique}",
                            "title": TITLE,
                            "category": "neighbour",
                            "description": DESCRIPTION,
                            "gridId": who.grid,
                            "streetId": who.street,
                            "reporterStaffId": who.staff,
                            "status": "reported",
                            "reportedAt": "2026-03-01T09:00:00+08:00",
                            "version": 1,
                        }
                    },
                ),
                FLOOR: Call("POST", "/report-dispute", headers=_floor_headers(who)).with_body(
                    {"title": TITLE, "description": DESCRIPTION}
                ),
            },
            {GATEWAY: reported_rows, POSTGRAPHILE: reported_rows, FLOOR: reported_rows},
            writes=("dispute", "dispute_party", "dispute_outbox", "gateway_audit", "gateway_audit_touch"),
        ),
    ]
