"""A scripted session against a real uvicorn server, then a scan for leaks.

Committee staff (ID numbers masked) and a grid worker (phones masked, no ID numbers) look
residents up and filter by ID numbers and phones — with values as the city analyst sees
them, in GET query strings, POST variables, aliases and a purpose header — write a dispute
naming a party's phone, and make mistakes. Then the server's own output, every column of
every audit record, and every answer to a masked reader are searched for the raw values:
none may be there.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from gateway.audit import audit_key, keyed_hash
from gateway.kernel import Settings
from tests.e2e.servers import SECRET_KEY, Server, gateway_env, issue_tokens, prepare_database, uvicorn_server

COMMITTEE, GRID_WORKER, ANALYST = "committee.demo", "gridworker.demo", "analyst.city"
LOOKUP = "query Lookup($n: String!) { residentByIdNumber(idNumber: $n) { id name idNumber phone } }"


@dataclass
class Session:
    server: Server
    database: Path
    tokens: dict[str, str]
    # Every answer a masked reader got, by principal.
    answers: dict[str, list[str]] = field(default_factory=dict)

    def ask(
        self,
        principal: str,
        query: str,
        variables: dict[str, Any] | None = None,
        get: bool = False,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = {"Authorization": f"Bearer {self.tokens[principal]}", **(headers or {})}
        url = f"{self.server.base_url}/graphql"
        if get:
            params = {"query": query, **({"variables": json.dumps(variables)} if variables else {})}
            response = httpx.get(url, params=params, headers=sent, timeout=30)
        else:
            response = httpx.post(url, json={"query": query, "variables": variables}, headers=sent, timeout=30)
        assert response.status_code < 500, response.text
        self.answers.setdefault(principal, []).append(response.text)
        return response

    def data(self, principal: str, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = self.ask(principal, query, variables).json()
        assert "errors" not in body, body
        return body["data"]


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    tmp = tmp_path_factory.mktemp("no-leaks")
    database = tmp / "gw.db"
    env = gateway_env(f"sqlite+aiosqlite:///{database}")
    prepare_database(env)
    tokens: dict[str, str] = {}

    def issue() -> None:
        tokens.update(issue_tokens(env, COMMITTEE, GRID_WORKER, ANALYST))

    with uvicorn_server(env, tmp / "uvicorn.log", meanwhile=issue) as server:
        yield Session(server, database, tokens)


def _visible_ids(session: Session, principal: str) -> set[str]:
    data = session.data(principal, "{ residents(first: 50) { nodes { id } } }")
    return {node["id"] for node in data["residents"]["nodes"]}


def test_no_raw_value_reaches_logs_audit_or_a_masked_reader(session: Session) -> None:
    analyst = session.data(ANALYST, "{ residents(first: 100) { nodes { id name idNumber phone } } }")
    people = {node["id"]: node for node in analyst["residents"]["nodes"]}
    committee_sees = [people[i] for i in sorted(_visible_ids(session, COMMITTEE)) if i in people]
    worker_sees = [people[i] for i in sorted(_visible_ids(session, GRID_WORKER)) if i in people]
    assert committee_sees and worker_sees, "the demo data gives both readers residents the analyst also sees"
    hidden = next(p for p in people.values() if p["id"] not in {w["id"] for w in worker_sees})
    c1, c2, w1 = committee_sees[0], committee_sees[-1], worker_sees[0]

    # --- committee staff: ID numbers masked ---------------------------------------------
    session.ask(
        COMMITTEE,
        f'query ByNumber {{ residentByIdNumber(idNumber: "{c1["idNumber"]}") {{ name idNumber }} }}',
        get=True,
    )
    session.ask(COMMITTEE, LOOKUP, {"n": c2["idNumber"]}, get=True)
    session.ask(
        COMMITTEE,
        LOOKUP,
        {"n": c1["idNumber"]},
        headers={"X-Purpose": quote(f"核查 {c1['idNumber']} 来电 {c1['phone']}")},
    )
    session.ask(
        COMMITTEE,
        f'{{ a: residentByIdNumber(idNumber: "{c1["idNumber"]}") {{ idNumber }} '
        f'b: residentByIdNumber(idNumber: "{c1["idNumber"]}") {{ idNumber }} '
        f'c: residentByIdNumber(idNumber: "{hidden["idNumber"]}") {{ idNumber }} }}',
    )
    session.ask(
        COMMITTEE,
        "query Filter($f: ResidentFilter) { residents(filter: $f) { nodes { idNumber phone } } }",
        {"f": {"idNumber": c2["idNumber"]}},
    )
    session.ask(COMMITTEE, "{ residents(first: 20) { nodes { name idNumber phone } } }", get=True)
    session.ask(COMMITTEE, f"{{ residentByIdNumber(idNumber: {c1['idNumber'][:12]}) {{ name }} }}")  # not a string
    session.ask(COMMITTEE, '{ node(id: "UmVzaWRlbnQ6OTk5OTk5") { id } }', get=True)
    session.ask(COMMITTEE, LOOKUP, {"n": c1["idNumber"]}, headers={"X-Purpose": f"{c1['idNumber']}%00"})

    # --- a grid worker: phones masked, no ID numbers at all -----------------------------
    session.ask(
        GRID_WORKER, f'{{ residents(filter: {{name: "{w1["name"]}"}}) {{ nodes {{ name phone }} }} }}', get=True
    )
    session.ask(GRID_WORKER, LOOKUP, {"n": w1["idNumber"]})
    session.ask(
        GRID_WORKER, f'query Sneak {{ x: residentByIdNumber(idNumber: "{w1["idNumber"]}") {{ phone }} }}', get=True
    )
    session.ask(
        GRID_WORKER, "query Who($id: ID!) { node(id: $id) { id ... on Resident { phone } } }", {"id": hidden["id"]}
    )
    session.ask(GRID_WORKER, "{ residents(first: 10) { nodes { idNumber } } }")
    reported = session.ask(
        GRID_WORKER,
        "mutation Report($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id parties { name phone } } } }",
        {
            "input": {
                "title": "噪音扰民 / noise at night",
                "category": "NEIGHBOUR",
                "description": "夜间噪音 / noise",
                # A resident party by the record alone: its details are read through the link.
                "parties": [{"role": "COMPLAINANT", "residentId": w1["id"]}],
            }
        },
    )
    assert "errors" not in reported.json(), reported.text
    session.ask(
        GRID_WORKER,
        "mutation Touch($input: UpdateResidentInput!) { updateResident(input: $input) { resident { id } } }",
        {"input": {"residentId": hidden["id"], "expectedVersion": 1, "phone": hidden["phone"]}},
    )

    # --- the scan ------------------------------------------------------------------------
    id_numbers = {p["idNumber"] for p in people.values()}
    resident_phones = {p["phone"] for p in people.values() if p["phone"]}
    never = {
        "the server's output": (session.server.log.read_text(errors="replace"), id_numbers | resident_phones),
        "the audit trail": (_audit_text(session.database), id_numbers | resident_phones),
        # The committee reads residents' phones in clear; their ID numbers only masked.
        "the committee's answers": ("\n".join(session.answers[COMMITTEE]), id_numbers),
        "the grid worker's answers": ("\n".join(session.answers[GRID_WORKER]), id_numbers | resident_phones),
    }
    for where, (text, values) in never.items():
        found = sorted(v for v in values if v in text)
        assert not found, f"{where} holds raw values: {found}"

    # Not a vacuous scan: the look-ups are in the trail, as keyed hashes, and each request was logged.
    key = audit_key(Settings(secret_key=SECRET_KEY))
    trail = _audit_text(session.database)
    # Each value is hashed with the kind of value it is (the argument's last name): see gateway/audit/probes.py.
    for kind, value in (("idNumber", c1["idNumber"]), ("idNumber", c2["idNumber"]), ("idNumber", w1["idNumber"]),
                        ("id", hidden["id"])):  # fmt: skip
        assert keyed_hash(key, f"{kind}\x1f{value}") in trail, value
    log = session.server.log.read_text(errors="replace")
    lines = [line for line in log.splitlines() if '"log": "gateway.access"' in line]
    asked = sum(len(answers) for answers in session.answers.values()) + 1  # and the analyst's
    assert len(lines) >= asked
    entries = [json.loads(line) for line in lines]
    assert any(
        (e["method"], e["status"], e.get("principal"), e.get("operation")) == ("GET", 200, COMMITTEE, "ByNumber")
        for e in entries
    )
    assert not any("?" in line or "query=" in line for line in lines)


def _audit_text(database: Path) -> str:
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT * FROM gateway_audit").fetchall()
    assert rows
    return "\n".join(" ".join(str(value) for value in row) for row in rows)
