"""Red team 9: the audit record's content made once and cut at stand-ins, costs memoized per document
and variables, compiled rows answered from ``NodeShape.steps``, kept metric children and random
request ids; then the paths beside.

Probed, with every role's token, on SQLite and PostgreSQL:

- The audit chain: records whose every text field (purpose, operation name, principal, token id,
  document client, probe paths and argument names, access keys named ``seq``/``recorded_at``) holds
  the stand-ins, quoted stand-ins, quotes, backslashes, control characters, U+2028, long text and
  runs of digits; a percent-encoded UTF-8 X-Purpose with quotes and backslashes end to end. The
  chain stays intact, every stored hash is ``chain_hash(record)``, records name the rows read.
  A stand-in (private use) or a control character in X-Purpose is refused before anything runs;
  NUL and lone surrogates in variables are refused too, so no caller text reaches the cut's fallback.
- Cost memo: one document run cheap and then with variables over the limit, and the other way
  round, with undeclared variables and a digest too large to keep: the expensive run is refused.
- Compiled reads: committee staff (the one role with a row-dependent value, ``DisputeParty.phone``)
  and every other role, on pages through links, nested lists, edges, aliases and the same field
  twice: bodies (data, ``extensions.redacted``, errors) and audit entries equal the resolvers'.
- Access log and /metrics: operation names and paths with ID numbers and phones are scrubbed.

Found, and fixed with this file (its tests failed on the code they were written against):

1. A denied document was audited under the request's ``operationName`` as sent when it named no
   operation (``_audit_refusal``), before the NUL / lone-surrogate check: a lone surrogate (both
   backends) or a NUL (PostgreSQL) failed the append (503, the denied attempt in no record); control,
   bidi and private-use characters reached the trail, which X-Purpose refuses. A name that is not a
   GraphQL name is now refused before anything runs (``gateway.pipeline.operation.prepare``).
2. An unknown ``documentId`` (any 64 hex digits) was logged as the access line's ``hash`` as sent:
   a phone or ID number typed into it was written to the log. A document by id is now noted by its
   own hash once found.

Held: everything else above; a partyName filter finds only names the role reads in clear;
registering an ID number answers alike inside, outside the worker's area and for a new number.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from gateway.audit.probes import Probe
from gateway.audit.tables import AuditRecord
from gateway.audit.trail import AUDIT_DOMAIN, AuditEntry, chain_hash
from tests.harness import SECRET, Gateway, database_url, running_gateway
from tests.test_compiled_reads import ask

ROLES_WITH_PAGES = ("city_analyst", "committee_staff", "community_police", "grid_worker", "judicial_office")
PHONE, ID_NUMBER = "13812345678", "110105194912310020"
STAND_INS = ["\ue000at\ue000", "\ue000seq\ue000", '"\ue000at\ue000"', '"\ue000seq\ue000"']
TEXTS = [
    *STAND_INS,
    "\ue000seq\ue000\ue000at\ue000",
    'a"b\\c\\"',
    "\x01\x1f\x7f",
    "\u2028",
    '","seq":1,"x":"',
    "字" * 300,
]


@pytest.fixture(scope="module")
def red9_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("red9"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def r9(red9_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*red9_url, residents=120) as gateway:
        yield gateway


async def stored_records_fit(gw: Gateway) -> list[AuditRecord]:
    report = await gw.runtime.audit.verify()
    assert report.ok, report.describe()
    async with gw.runtime.databases.session(AUDIT_DOMAIN) as session:
        records = list((await session.execute(select(AuditRecord).order_by(AuditRecord.seq))).scalars())
    for record in records:
        assert chain_hash(record) == record.hash, record.seq
    return records


async def test_records_holding_stand_ins_and_odd_text_chain_and_verify(r9: Gateway) -> None:
    trail = r9.runtime.audit
    for text in TEXTS:
        base = {
            "principal_id": text[:60],
            "role": "r",
            "agency": text[:60],
            "purpose": text,
            "operation_name": text,
            "operation_hash": "h",
            "operation_type": "query",
            "policy_version": text[:60],
            "fields": (text[:60], "Resident.name"),
            "row_ids": {"Resident": (1, 2)},
            "redacted": (text,),
            "denied": (text,),
            "access": {text: text, "seq": text, "recorded_at": text},
            "probes": (Probe(text, text, ((text, text), ("seq", text))),),
            "token_id": text[:64],
            "document_client": text[:100],
        }
        await trail.append(AuditEntry(**base))  # type: ignore[arg-type]
    records = await stored_records_fit(r9)
    assert [r.purpose for r in records[-len(TEXTS) :]] == [t[:200] for t in TEXTS]
    # The command line's verdict, from its own process.
    env = dict(os.environ, GATEWAY_DB_URL=r9.settings.db_url, GATEWAY_SECRET_KEY=SECRET)
    command = [sys.executable, "-m", "gateway.cli", "audit", "verify"]
    done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "intact" in done.stdout, (done.stdout, done.stderr)


async def test_a_percent_encoded_purpose_reaches_the_trail_as_sent_and_the_chain_holds(r9: Gateway) -> None:
    purpose = '核查 "quoted" back\\slash {"seq":1} ' + "长" * 250
    query = "query Look { residents(first: 3) { nodes { id name } } }"
    response = await r9.post(query, role="committee_staff", headers={"X-Purpose": quote(purpose)})
    assert response.status_code == 200 and "errors" not in response.json()
    records = await stored_records_fit(r9)
    mine = [r for r in records if r.operation_name == "Look"][-1]
    assert mine.purpose == purpose[:200]
    assert len(json.loads(mine.row_ids)["Resident"]) == 3
    assert "Resident.name" in json.loads(mine.fields)
    # A stand-in (private use) or a control character in a purpose is refused before anything runs.
    for bad in ("\ue000at\ue000", "a\x00b", "x\u202ey"):
        refused = await r9.post(query, role="committee_staff", headers={"X-Purpose": quote(bad)})
        assert refused.json().get("errors"), bad
    await stored_records_fit(r9)


COSTLY = "query($n: Int) { residents(first: $n) { nodes { id household { members(first: $n) { nodes { id } } } } } }"


@pytest.mark.parametrize("order", ["cheap_first", "costly_first"])
async def test_a_cost_kept_for_cheap_variables_never_serves_costly_ones(red9_url: tuple[str, str], order: str) -> None:
    async with running_gateway(*red9_url, max_cost=2000) as gw:
        cheap, costly = {"n": 2}, {"n": 100}
        runs = [cheap, costly] if order == "cheap_first" else [costly, cheap]
        for _ in range(2):
            for variables in runs:
                for extra in ({}, {"undeclared": 1}, {"undeclared": "x" * 100_000}):
                    body = (await gw.post(COSTLY, {**variables, **extra})).json()
                    if variables is costly:
                        assert body.get("errors") and "cost" in body["errors"][0]["message"].lower(), body
                    else:
                        assert "errors" not in body, body


COMPILED = [
    "{ residents(first: 30) { nodes { id a: name b: name phone p: phone household { number head { name phone } } } } }",
    "{ residents(first: 30) { edges { cursor node { name x: phone grid { name } } } } }",
    "{ households(first: 20) { nodes { head { name } h: head { phone } members(first: 5) { edges { cursor node { name"
    " household { number } } } } } } }",
    "{ grids(first: 20) { nodes { residents(first: 5) { totalCount nodes { name phone } } } } }",
    "{ disputes(first: 30) { nodes { id parties { role phone p: phone name resident { name phone } } } } }",
    "{ grids(first: 20) { nodes { disputes(first: 5) { edges { node { parties { phone resident { name } } } } } } } }",
    "{ residents(first: 40) { nodes { id disputes(first: 3) { nodes { parties { phone p: phone } } } } } }",
    "{ volunteers(first: 20) { nodes { resident { name phone household { number } } grid { name } } } }",
]


@pytest.mark.parametrize("role", ROLES_WITH_PAGES)
async def test_compiled_pages_withhold_and_report_what_the_resolvers_do(r9: Gateway, role: str) -> None:
    compiled = 0
    for query in COMPILED:
        slow = await ask(r9, query, role, compiled=False)
        fast = await ask(r9, query, role, compiled=True)
        assert fast.body == slow.body, (role, query)
        assert fast.audit == slow.audit, (role, query)
        compiled += fast.compiled
    # The compiler answered some of them (it declines what it cannot plan: links it has no mark for).
    assert compiled or role == "judicial_office", role


PARTY = "query($n: String) { disputes(first: 100, filter: {partyName: $n}) { nodes { id } } }"


@pytest.mark.parametrize("role", ["committee_staff", "community_police", "grid_worker", "judicial_office"])
async def test_a_party_name_filter_finds_only_names_the_role_reads_in_clear(r9: Gateway, role: str) -> None:
    every = await r9.query("{ disputes(first: 100) { nodes { parties { name } } } }", role="city_analyst")
    names = {p["name"] for d in every["disputes"]["nodes"] for p in d["parties"] if p["name"]}
    mine = await r9.query("{ disputes(first: 100) { nodes { id parties { name } } } }", role=role)
    read = {d["id"]: [p["name"] or "" for p in d["parties"]] for d in mine["disputes"]["nodes"]}
    for probe in {part for name in names for part in (name, name[1:])}:
        found = await r9.query(PARTY, {"n": probe}, role=role)
        for dispute in found["disputes"]["nodes"]:
            assert any(probe in name for name in read[dispute["id"]]), (role, probe, read.get(dispute["id"]))


async def test_access_lines_and_metrics_hold_no_caller_numbers(r9: Gateway, access_lines: list[str]) -> None:
    name = f"Q{PHONE}_{ID_NUMBER}"
    await r9.post(f"query {name} {{ residents(first: 1) {{ nodes {{ id }} }} }}", role="committee_staff")
    await r9.client.get(f"/graphql/{ID_NUMBER}/{PHONE}")
    metrics = (await r9.client.get("/metrics")).text
    for text in [*access_lines, metrics]:
        assert PHONE not in text and ID_NUMBER not in text, text[:300]
    assert all(re.fullmatch(r"[0-9a-f]{32}", json.loads(line)["request_id"]) for line in access_lines)


async def test_an_unknown_document_id_never_reaches_the_access_log(r9: Gateway, access_lines: list[str]) -> None:
    """Found by this red team: the access line's ``hash`` was the caller's documentId (64 hex digits,
    unchecked against any document) as sent, so a phone or ID number typed into it was logged. A
    document by id is now noted by its own hash once it is found."""
    digest = (PHONE + ID_NUMBER).ljust(64, "0")
    headers = {"Authorization": f"Bearer {r9.tokens['committee_staff']}"}
    await r9.client.post("/graphql", json={"documentId": f"sha256:{digest}"}, headers=headers)
    assert access_lines
    for line in access_lines:
        assert PHONE not in line and ID_NUMBER not in line, line


@pytest.mark.parametrize("name", ["\ud800", "a\x00b", "x\u202ey", "\ue000seq\ue000", "Q 1", "1Q"])
async def test_an_operation_name_no_operation_can_bear_is_refused_before_anything_is_recorded(
    r9: Gateway, name: str
) -> None:
    """Found by this red team: a document asking for a field hidden from the role was audited as denied
    under the request's ``operationName`` as sent, before the NUL / lone-surrogate check: a lone
    surrogate or a NUL failed the append (a 503, the attempt in no record), and bidi or private-use
    characters reached the trail. A name that is not a GraphQL name is now refused first, naming the
    argument; nothing has run, so nothing is recorded."""
    trail = r9.runtime.audit
    before = (await trail.head())[0]
    query = "{ residents(first: 1) { nodes { idNumber } } }"
    headers = {"Authorization": f"Bearer {r9.tokens['grid_worker']}", "Content-Type": "application/json"}
    response = await r9.client.post(
        "/graphql", content=json.dumps({"query": query, "operationName": name}), headers=headers
    )
    assert response.status_code == 200, response.text
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["argument"] == "operationName"
    assert (await trail.head())[0] == before
    # A name that could be an operation's, matching none, is recorded with the denied attempt as sent.
    response = await r9.client.post(
        "/graphql", content=json.dumps({"query": query, "operationName": "Nope"}), headers=headers
    )
    records = await stored_records_fit(r9)
    assert records[-1].seq == before + 1 and records[-1].outcome == "denied"
    assert records[-1].operation_name == "Nope"
