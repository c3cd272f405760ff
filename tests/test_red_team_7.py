"""Red team 7: resolver batch reads kept per principal on the driver, reports written as kept statements."""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from sqlalchemy import func, select, text, update

from gateway.data import decode_pk, encode_id, loaders
from gateway.kernel import Unauthenticated
from gateway.policy import load_policies
from gateway.write import Writes
from resolvers.dispute import tables as t
from resolvers.grid import risk
from resolvers.grid.risk import colour, scores
from resolvers.grid.tables import Grid, Staff
from tests.harness import Gateway, report_input


def _leaves(kind: GraphQLObjectType) -> list[str]:
    return [
        name
        for name, field in kind.fields.items()
        if is_leaf_type(get_named_type(field.type))
        and not any(isinstance(a.type, GraphQLNonNull) for a in field.args.values())
    ]


def _selection(kind: GraphQLObjectType, depth: int) -> str:
    """Every scalar field of ``kind`` and, ``depth`` levels down, of every object or list it links to."""
    parts = _leaves(kind)
    if depth:
        for name, field in kind.fields.items():
            inner = get_named_type(field.type)
            if field.args or not isinstance(inner, GraphQLObjectType):
                continue
            wrapped = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
            if isinstance(inner, GraphQLObjectType) and (
                isinstance(wrapped, GraphQLList) or "Connection" not in inner.name
            ):
                parts.append(f"{name} {{ {_selection(inner, depth - 1)} }}")
    return " ".join(parts) or "__typename"


def _queries(schema: GraphQLSchema) -> list[str]:
    query = schema.query_type
    assert query is not None
    found = []
    # Every root connection: its nodes reach rows through load_one / load_many / load_each.
    for root, field in query.fields.items():
        if root in {"auditLog", "accessLog"}:
            continue  # grows with every request: two reads of it differ whatever the path
        nodes = get_named_type(field.type)
        if not isinstance(nodes, GraphQLObjectType) or "nodes" not in nodes.fields or "first" not in field.args:
            continue
        if any(isinstance(a.type, GraphQLNonNull) and a.default_value is Undefined for a in field.args.values()):
            continue
        node = get_named_type(nodes.fields["nodes"].type)
        assert isinstance(node, GraphQLObjectType)
        found.append(f"{{ {root}(first: 15) {{ nodes {{ {_selection(node, 2)} }} }} }}")
    return found


async def test_driver_batch_reads_answer_as_the_orm_reads_for_every_role(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every role's answer through kept driver statements is the answer of the ORM path, masks,
    OUTSIDE nulls, dates and enums included."""
    if gw.backend != "postgres":
        pytest.skip("the driver path exists on PostgreSQL only")
    # Reports made by earlier tests move risk colours a reaction's turn later: bring every grid's colour
    # up to date first, so that no colour changes between the two reads compared.
    await risk.sweep(gw.runtime.databases, datetime.now(UTC))
    compared = 0
    for role in gw.tokens:
        principal = await gw.runtime.authenticator.authenticate(f"Bearer {gw.tokens[role]}")
        schema = gw.runtime.schema_of(gw.runtime.policy_for(principal))
        for query in _queries(schema):
            driver = (await gw.post(query, role=role)).json()
            with monkeypatch.context() as patched:
                patched.setattr(loaders, "_kept", lambda *_: None)
                orm = (await gw.post(query, role=role)).json()
            assert driver == orm, (role, query)
            compared += 1
    assert compared


REPORT = """
mutation Report($input: ReportDisputeInput!) {
  reportDispute(input: $input) { dispute { id code status parties { role name phone } } }
}
"""


async def _grids(gw: Gateway, n: int) -> list[str]:
    """Up to ``n`` grids of the committee's own area (where its residents live)."""
    data = await gw.query("{ residents(first: 100) { nodes { grid { id } } } }", role="committee_staff")
    return sorted({node["grid"]["id"] for node in data["residents"]["nodes"]})[:n]


async def test_concurrent_reports_are_each_written_once_in_commit_order(gw: Gateway) -> None:
    """Twenty reports at once over several grids: each one dispute, two parties, one event and one
    'written' record naming its rows; outbox ids in the order the writes committed; the chain intact."""
    grids = await _grids(gw, 4)
    head = (await gw.runtime.audit.head())[0]
    async with gw.runtime.databases.session("dispute") as session:
        before = int((await session.execute(select(func.max(t.DisputeOutbox.id)))).scalar_one() or 0)
    titles = [f"并发 / burst {n}" for n in range(20)]
    answers = await asyncio.gather(
        *(
            gw.post(REPORT, {"input": report_input(grids[n % len(grids)], title)}, "committee_staff")
            for n, title in enumerate(titles)
        )
    )
    ids = []
    for answer in answers:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body
        ids.append(decode_pk(body["data"]["reportDispute"]["dispute"]["id"], "Dispute"))
    assert len(set(ids)) == 20
    async with gw.runtime.databases.session("dispute") as session:
        events = (
            await session.execute(
                select(t.DisputeOutbox.id, t.DisputeOutbox.row_id).where(
                    t.DisputeOutbox.id > before, t.DisputeOutbox.kind == "reported"
                )
            )
        ).all()
        parties = (
            await session.execute(
                select(t.DisputeParty.dispute_id, t.DisputeParty.id).where(t.DisputeParty.dispute_id.in_(ids))
            )
        ).all()
    assert sorted(row_id for _, row_id in events) == sorted(ids)
    written = [r for r in await gw.runtime.audit.tail(200) if r.seq > head and r.outcome == "written"]
    named = {json.loads(r.row_ids)["Dispute"][0]: json.loads(r.row_ids) for r in written}
    assert sorted(named) == sorted(ids)
    for dispute, row_ids in named.items():
        assert row_ids == {"Dispute": [dispute], "DisputeParty": sorted(p for d, p in parties if d == dispute)}
    if gw.runtime.databases.driver("dispute") is not None:
        # Commit order: the records' chain order is the outbox's id order.
        by_seq = [json.loads(r.row_ids)["Dispute"][0] for r in sorted(written, key=lambda r: r.seq)]
        by_event = [row_id for _, row_id in sorted(events)]
        assert by_seq == by_event
    assert (await gw.runtime.audit.verify()).ok


async def test_a_report_whose_connection_is_killed_mid_write_leaves_nothing(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """pg_terminate_backend on the write's own connection between its statements: a GraphQL error
    with a code, no dispute, party, event or 'written' record, and the next report served."""
    if gw.runtime.databases.driver("dispute") is None:
        pytest.skip("the driver write exists on PostgreSQL only")
    grid = (await _grids(gw, 1))[0]
    head = (await gw.runtime.audit.head())[0]
    title = "断线 / killed mid-write"
    original = Writes.update

    async def killed(self: Writes, *args: Any, **kwargs: Any) -> None:
        await original(self, *args, **kwargs)
        assert self._conn is not None
        pid = self._conn.get_server_pid()
        async with gw.runtime.databases.session("dispute") as session:
            await session.execute(text(f"SELECT pg_terminate_backend({int(pid)})"))

    monkeypatch.setattr(Writes, "update", killed)
    response = await gw.post(REPORT, {"input": report_input(grid, title)}, "committee_staff")
    monkeypatch.undo()
    assert response.status_code == 200, response.text
    errors = response.json()["errors"]
    assert errors[0]["extensions"]["code"] in {"INTERNAL", "UNAVAILABLE"}
    assert "Traceback" not in response.text and "asyncpg" not in response.text
    async with gw.runtime.databases.session("dispute") as session:
        assert (
            await session.execute(select(func.count(t.Dispute.id)).where(t.Dispute.title == title))
        ).scalar_one() == 0
    assert [r for r in await gw.runtime.audit.tail(20) if r.seq > head and r.outcome == "written"] == []
    await gw.query(REPORT, {"input": report_input(grid, "断线之后 / after")}, role="committee_staff")
    assert (await gw.runtime.audit.verify()).ok


async def test_presets_of_report_dispute_hold_on_the_kept_statement_write(gw: Gateway) -> None:
    """Every role whose reportDispute grant presets the grid or the reporter: a report naming another
    grid lands in the principal's own grid (or is refused), reported by the principal's staff row."""
    every = await gw.query("{ grids(first: 100) { nodes { id } } }", role="city_analyst")
    tried = 0
    for role, token in gw.tokens.items():
        principal = await gw.runtime.authenticator.authenticate(f"Bearer {token}")
        policy = gw.runtime.policy_for(principal)
        grant = policy.mutation("reportDispute")
        if grant is None or not grant.presets:
            continue
        own = principal.area.grid_ids or frozenset()
        foreign = next(node["id"] for node in every["grids"]["nodes"] if decode_pk(node["id"], "Grid") not in own)
        title = f"越界 / elsewhere by {role}"
        body = (await gw.post(REPORT, {"input": report_input(foreign, title)}, role)).json()
        async with gw.runtime.databases.session("dispute") as session:
            rows = (
                await session.execute(
                    select(t.Dispute.grid_id, t.Dispute.reporter_staff_id).where(t.Dispute.title == title)
                )
            ).all()
        if "errors" in body:
            assert body["errors"][0]["extensions"]["code"] in {"FORBIDDEN", "BAD_USER_INPUT"}
            assert rows == []
        else:
            [(grid_id, reporter)] = rows
            if grant.presets.get("gridId") == "own_grid":
                assert grid_id == principal.area.id
            assert grid_id in own
            if grant.presets.get("reporterId") == "own_staff":
                assert reporter == principal.record.staff_id
        tried += 1
    assert tried


async def test_a_burst_of_reports_reaches_a_tail_once_each_in_order(gw: Gateway) -> None:
    """Thirty reports at once: a live tail of the topic gets each one's event once, in id order, and a
    resume from before the burst reads the same events."""
    grids = await _grids(gw, 3)
    feed = gw.runtime.feed
    await feed.start()
    async with gw.runtime.databases.session("dispute") as session:
        before = int((await session.execute(select(func.max(t.DisputeOutbox.id)))).scalar_one() or 0)
    live: list[Any] = []

    async def tail() -> None:
        async for event in feed.events("dispute", "dispute"):
            live.append(event)

    reader = asyncio.create_task(tail())
    await asyncio.sleep(0.05)
    answers = await asyncio.gather(
        *(
            gw.post(REPORT, {"input": report_input(grids[n % len(grids)], f"涌入 / burst {n}")}, "committee_staff")
            for n in range(30)
        )
    )
    ids = sorted(decode_pk(a.json()["data"]["reportDispute"]["dispute"]["id"], "Dispute") for a in answers)
    for _ in range(200):
        if len({e.row_id for e in live if e.kind == "reported"} & set(ids)) == 30:
            break
        await asyncio.sleep(0.05)
    reader.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await reader
    got = [e.row_id for e in live if e.kind == "reported" and e.row_id in set(ids)]
    assert sorted(got) == ids  # none lost, none twice
    assert [e.id for e in live] == sorted({e.id for e in live})  # in order, no repeats
    resumed: list[Any] = []

    async def resume() -> None:
        async for event in feed.events("dispute", "dispute", after=before):
            resumed.append(event)
            if len(resumed) >= len(live):
                return

    await asyncio.wait_for(resume(), 10)
    assert [e.id for e in resumed][: len(live)] == [e.id for e in live if e.id > before][: len(resumed)]


async def test_risk_colours_after_a_burst_over_several_grids_are_their_scores(gw: Gateway) -> None:
    """Bursts of reports over several grids at once, reactions taking them in batches: once quiet,
    each grid's stored colour is the colour of its score counted afresh."""
    grids = [decode_pk(g, "Grid") for g in await _grids(gw, 4)]
    for burst in range(3):
        await asyncio.gather(
            *(
                gw.post(
                    REPORT,
                    {"input": report_input(encode_id("Grid", grids[n % len(grids)]), f"风险 {burst}/{n}")},
                    "committee_staff",
                )
                for n in range(3 + 4 * burst)
            )
        )
    wanted: dict[int, str] = {}
    stored: dict[int, str] = {}
    for _ in range(100):
        counted = await scores(gw.runtime.databases, grids, datetime.now(UTC))
        wanted = {g: colour(s) for g, s in counted.items()}
        async with gw.runtime.databases.session("grid") as session:
            rows = (await session.execute(select(Grid.id, Grid.risk_colour).where(Grid.id.in_(grids)))).all()
        stored = {g: c for g, c in rows}
        if stored == wanted:
            break
        await asyncio.sleep(0.1)
    assert stored == wanted
    assert "red" in wanted.values()


async def test_a_shared_principal_look_up_is_no_fresher_than_when_it_began(gw: Gateway) -> None:
    """A request that begins after its principal was disabled may not be admitted by joining a
    look-up that read the record before (older than the cache allows); nor may that look-up's
    record be kept as if read when the request began. A cancelled first caller cancels no one."""
    authenticator = gw.runtime.authenticator
    directory = authenticator._directory
    token = f"Bearer {gw.tokens['grid_worker']}"
    principal = await authenticator.authenticate(token)
    original = directory.find
    gate = asyncio.Event()
    held: list[str] = []

    async def read_then_wait(principal_id: str) -> Any:
        record = await original(principal_id)  # read now, answered when the gate opens
        held.append(principal_id)
        await gate.wait()
        return record

    before = authenticator.cache_seconds
    authenticator.cache_seconds = 0.2
    authenticator._cache.clear()
    directory.find = read_then_wait  # type: ignore[method-assign]
    try:
        # Cancelling the first caller of a shared look-up leaves the others their answer.
        first = asyncio.create_task(authenticator.authenticate(token))
        while not held:
            await asyncio.sleep(0.005)
        others = [asyncio.create_task(authenticator.authenticate(token)) for _ in range(3)]
        await asyncio.sleep(0.01)
        first.cancel()
        gate.set()
        assert {p.id for p in await asyncio.gather(*others)} == {principal.id}
        assert held == [principal.id]  # one look-up for all four
        with contextlib.suppress(asyncio.CancelledError):
            await first
        # A look-up that read the record, then is held up past the cache's time.
        gate.clear()
        held.clear()
        authenticator._cache.clear()
        stale = asyncio.create_task(authenticator.authenticate(token))
        while not held:
            await asyncio.sleep(0.005)
        async with gw.runtime.databases.session("grid") as session, session.begin():
            await session.execute(update(Staff).where(Staff.principal_id == principal.id).values(active=False))
        await asyncio.sleep(authenticator.cache_seconds * 1.5)
        late = asyncio.create_task(authenticator.authenticate(token))  # begins after the disable
        await asyncio.sleep(0.05)
        gate.set()
        await stale  # it began before the disable
        with pytest.raises(Unauthenticated):
            await late
        with pytest.raises(Unauthenticated):
            await authenticator.authenticate(token)
    finally:
        directory.find = original  # type: ignore[method-assign]
        authenticator.cache_seconds = before
        authenticator._cache.clear()
        async with gw.runtime.databases.session("grid") as session, session.begin():
            await session.execute(update(Staff).where(Staff.principal_id == principal.id).values(active=True))


async def test_driver_batch_reads_follow_a_policy_reload(
    gw: Gateway, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Kept batch reads built under one policy set are not used under the next: after a reload that
    narrows a role's grants, its answers through the driver are the ORM path's under the new policy."""
    if gw.backend != "postgres":
        pytest.skip("the driver path exists on PostgreSQL only")
    role = "committee_staff"
    principal = await gw.runtime.authenticator.authenticate(f"Bearer {gw.tokens[role]}")
    queries = _queries(gw.runtime.schema_of(gw.runtime.policy_for(principal)))
    for query in queries:
        await gw.post(query, role=role)  # every batch read of the role kept under the policy in force
    in_force = gw.runtime.policies
    folder = tmp_path / "policies"
    shutil.copytree(Path(__file__).parent.parent / "policies", folder)
    rules = folder / "roles" / f"{role}.yaml"
    text = rules.read_text()
    assert "own_area_only: [phone]" in text
    rules.write_text(text.replace("own_area_only: [phone]", "deny: [phone]").replace("rows: street", "rows: area"))
    gw.runtime.install(load_policies(folder))
    try:
        compared = 0
        for query in _queries(gw.runtime.schema_of(gw.runtime.policy_for(principal))):
            driver = (await gw.post(query, role=role)).json()
            with monkeypatch.context() as patched:
                patched.setattr(loaders, "_kept", lambda *_: None)
                orm = (await gw.post(query, role=role)).json()
            assert driver == orm, query
            compared += 1
        assert compared
    finally:
        gw.runtime.install(in_force)


async def test_an_id_past_its_columns_range_reads_as_missing_not_internal(gw: Gateway) -> None:
    """A well-formed ID whose key no 32-bit key column can hold is a missing row on every backend,
    and does not fail the other keys of its batch."""
    dispute = (await gw.query("{ disputes(first: 1) { nodes { id } } }", role="committee_staff"))["disputes"]["nodes"][
        0
    ]["id"]
    for pk in (2**31, 10**18 - 1):
        for kind, root in (("Dispute", "dispute"), ("Resident", "resident")):
            query = (
                f'{{ far: {root}(id: "{encode_id(kind, pk)}") {{ id }} node(id: "{encode_id(kind, pk)}") {{ id }} }}'
            )
            assert await gw.query(query, role="committee_staff") == {"far": None, "node": None}
        both = f'{{ far: dispute(id: "{encode_id("Dispute", pk)}") {{ id }} near: dispute(id: "{dispute}") {{ id }} }}'
        assert await gw.query(both, role="committee_staff") == {"far": None, "near": {"id": dispute}}


async def test_an_area_narrowed_partner_token_never_reads_through_the_full_tokens_kept_read(gw: Gateway) -> None:
    """One partner, two tokens: its agency's whole area and one grid of it. Whichever reads first, a
    dispute outside the grid is missing by ID (load_one) for the narrowed token, found for the other."""
    every = await gw.query("{ disputes(first: 100) { nodes { id grid { id } } } }", role="judicial_office")
    nodes = every["disputes"]["nodes"]
    grid = nodes[0]["grid"]["id"]
    outside = next(n["id"] for n in nodes if n["grid"]["id"] != grid)
    inside = nodes[0]["id"]
    record = next(r for r in await gw.runtime.directory.all() if r.role == "judicial_office" and r.kind == "partner")
    hour = timedelta(hours=1)
    narrowed = await gw.runtime.tokens.issue(record.id, hour, record.scopes, area=f"grid:{decode_pk(grid, 'Grid')}")
    full = await gw.runtime.tokens.issue(record.id, hour, record.scopes)
    query = "query($a: ID!, $b: ID!) { a: dispute(id: $a) { id parties { name } } b: dispute(id: $b) { id } }"
    for order in ((narrowed, full), (full, narrowed), (narrowed, full)):
        for token in order:
            response = await gw.client.post(
                "/graphql",
                json={"query": query, "variables": {"a": outside, "b": inside}},
                headers={"Authorization": f"Bearer {token}"},
            )
            data = response.json()["data"]
            assert data["b"] == {"id": inside}
            assert (data["a"] is None) == (token == narrowed), (token == narrowed, data)
