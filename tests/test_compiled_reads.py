"""The compiled read path answers exactly as the resolvers do: every read query of the suite and
every root list of every role's schema, both ways, for every role, on SQLite and PostgreSQL —
the same data, errors, redacted paths and audit records."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import gateway.compile.run as compiled_run
from gateway.audit import AuditEntry
from tests.compiled_corpus import generated_queries, suite_queries
from tests.datetimes import EVERYWHERE, declared, offsets_checked
from tests.harness import Gateway

# A page that walks a link or list into its own type, and a cursor taken from a first page.
EXTRA = [
    "{ households(first: 3) { nodes { id number head { name household { number } } members(first: 2) { totalCount"
    " edges { cursor node { name household { address } } } } } } }",
    '{ residents(first: 2, after: "Y3Vyc29yOjM") { totalCount pageInfo { hasPreviousPage startCursor } nodes { id } } }',
    "{ a: residents(first: 1) { nodes { id } } b: residents(first: 2) { totalCount } }",
    "{ residents(first: 2) { nodes { n: name name2: name } } }",
    "{ residents(first: 3, orderBy: {id: ASC}) { pageInfo { endCursor } nodes { id } } }",
    "{ grids(first: 2) { nodes { residents(last: 2, orderBy: {registeredAt: DESC}) { totalCount nodes { id } } } } }",
    '{ residents(last: 2, before: "Y3Vyc29yOjM") { pageInfo { hasNextPage hasPreviousPage } nodes { id } } }',
]


@dataclasses.dataclass
class Answer:
    body: dict[str, Any]
    audit: list[dict[str, Any]]
    compiled: bool


@contextmanager
def recording(gw: Gateway) -> Iterator[tuple[list[AuditEntry], list[int]]]:
    """The audit entries appended, and how many operations the compiler answered."""
    entries: list[AuditEntry] = []
    answered = [0, 0]
    trail = gw.runtime.audit
    append, answer = trail.append, compiled_run.Run.answer

    async def keep(entry: AuditEntry) -> int:
        entries.append(entry)
        return await append(entry)

    async def counted(self: compiled_run.Run, roots: Any) -> Any:
        answered[0] += 1
        data = await answer(self, roots)
        # Counted once it stands: a compiled read that fails falls back to the resolvers.
        answered[1] += 1
        return data

    trail.append = keep  # type: ignore[method-assign]
    compiled_run.Run.answer = counted  # type: ignore[method-assign,assignment]
    try:
        yield entries, answered
    finally:
        trail.append = append  # type: ignore[method-assign]
        compiled_run.Run.answer = answer  # type: ignore[method-assign]


async def ask(gw: Gateway, query: str, role: str, compiled: bool) -> Answer:
    settings = gw.runtime.settings
    before = settings.compiled_reads
    settings.compiled_reads = compiled
    await gw.runtime.budgets.clear()
    try:
        with recording(gw) as (entries, answered):
            response = await gw.post(query, role=role)
    finally:
        settings.compiled_reads = before
    audit = [dataclasses.asdict(e) for e in entries]
    return Answer(response.json(), audit, bool(answered[1]))


async def test_every_read_query_answers_the_same_both_ways_for_every_role(gw: Gateway) -> None:
    roles = sorted(gw.tokens)
    queries = [*suite_queries(), *EXTRA]
    compiled_by_role: dict[str, int] = {}
    datetimes: set[str] = set()
    for role in roles:
        principal = await gw.runtime.authenticator.authenticate(f"Bearer {gw.tokens[role]}")
        schema = gw.runtime.executor_for(principal).schema
        for query in [*queries, *generated_queries(schema)]:
            fallback = await ask(gw, query, role, compiled=False)
            fast = await ask(gw, query, role, compiled=True)
            assert not fallback.compiled
            assert fast.body == fallback.body, (role, query)
            assert fast.audit == fallback.audit, (role, query)
            # Every DateTime of the answer (by the schema) carries the gateway zone's offset.
            datetimes |= offsets_checked(schema, query, fast.body)
            compiled_by_role[role] = compiled_by_role.get(role, 0) + fast.compiled
    # The comparison means something only where the compiler answered: every role that can list
    # anything had queries answered by it.
    listing = {"city_analyst", "committee_staff", "community_police", "grid_worker"}
    assert all(compiled_by_role[r] >= 5 for r in listing), compiled_by_role
    # ... and the answers held DateTime fields of every domain and the trail, most of those there are.
    every = declared(gw.runtime.full_schema._schema)
    assert datetimes >= EVERYWHERE and len(datetimes) >= len(every) // 2, sorted(every - datetimes)


@pytest.mark.parametrize("role", ["grid_worker", "community_police"])
async def test_the_grid_workers_page_is_compiled(gw: Gateway, role: str) -> None:
    page = "{ residents(first: 20) { totalCount nodes { id name address ageBand household { number } } } }"
    fast = await ask(gw, page, role, compiled=True)
    assert fast.compiled
    assert fast.body == (await ask(gw, page, role, compiled=False)).body
    assert fast.body["data"]["residents"]["nodes"]


async def test_row_dependent_values_are_withheld_and_reported_either_way(gw: Gateway) -> None:
    # A committee member reads a party's phone only on disputes in its own community. A party who
    # is a registered resident shows the resident's own phone, read through the link under the
    # reader's rule: the compiler does not plan through such a link, so the resolvers answer.
    page = "{ disputes(first: 50) { nodes { title parties { name phone } } } }"
    fast = await ask(gw, page, "committee_staff", compiled=True)
    slow = await ask(gw, page, "committee_staff", compiled=False)
    assert not fast.compiled, "a detail read through a link is not planned"
    redacted = fast.body["extensions"]["redacted"]
    # Outside its own rows, a linked resident's name is withheld too (the Resident rule).
    assert redacted and all(path.endswith((".phone", ".name")) for path in redacted)
    assert fast.body == slow.body
    assert fast.audit == slow.audit and fast.audit[0]["redacted"] == tuple(redacted)
