"""The change feed reads the outbox: a resume delivers every missed event, however many."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from gateway.feed import Feed
from resolvers.dispute import tables as t
from resolvers.volunteer import tables as v
from tests.harness import Gateway, database_url, running_gateway


@pytest.fixture(scope="module")
def feed_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("feed"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def fg(feed_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    async with running_gateway(*feed_url) as gateway:
        yield gateway


async def test_a_resume_after_many_missed_events_delivers_them_all(fg: Gateway) -> None:
    rows = [
        {
            "topic": "dispute",
            "type_name": "Dispute",
            "row_id": 1,
            "grid_id": 1,
            "kind": "reported",
            "created_at": datetime.now(UTC),
        }
        for _ in range(1234)
    ]
    async with fg.runtime.databases.session("dispute") as session, session.begin():
        await session.execute(insert(t.DisputeOutbox), rows)
    # Let the feed's tail read past them all first: only a resume can bring them back now.
    await asyncio.sleep(3 * fg.settings.feed_poll_seconds)
    seen: list[int] = []

    async def collect() -> None:
        async for event in fg.runtime.feed.events("dispute", "dispute", after=0):
            seen.append(event.id)
            if len(seen) == len(rows):
                return

    await asyncio.wait_for(collect(), timeout=30)
    assert seen == sorted(seen) and len(set(seen)) == len(rows)


async def test_a_write_wakes_the_feed_of_its_own_domain_only(fg: Gateway) -> None:
    outboxes = {d.name: d.outbox for d in fg.runtime.registry.domains if d.outbox is not None}
    # A poll long enough that only a wake-up can deliver an event within the test.
    feed = Feed(fg.runtime.databases, outboxes, poll_seconds=120, redis_url=None)
    await feed.start()
    try:
        disputes = feed.events("dispute", "dispute").__aiter__()
        volunteers = feed.events("volunteer", "volunteer").__aiter__()
        next_dispute = asyncio.ensure_future(disputes.__anext__())
        next_volunteer = asyncio.ensure_future(volunteers.__anext__())
        await asyncio.sleep(0.2)  # both subscriptions are listening
        row = {"row_id": 1, "grid_id": 1, "created_at": datetime.now(UTC)}
        async with fg.runtime.databases.session("dispute") as session, session.begin():
            await session.execute(insert(t.DisputeOutbox), [{**row, "topic": "dispute", "type_name": "Dispute",
                                                              "kind": "reported"}])  # fmt: skip
        async with fg.runtime.databases.session("volunteer") as session, session.begin():
            await session.execute(insert(v.VolunteerOutbox), [{**row, "topic": "volunteer", "type_name": "Volunteer",
                                                                "kind": "enrolled"}])  # fmt: skip
        await feed.committed("dispute")
        assert (await asyncio.wait_for(next_dispute, timeout=5)).kind == "reported"
        await asyncio.sleep(0.5)
        assert not next_volunteer.done(), "a dispute write woke the volunteer feed too"
        await feed.committed("volunteer")
        assert (await asyncio.wait_for(next_volunteer, timeout=5)).kind == "enrolled"
    finally:
        await feed.stop()


async def test_a_slow_consumer_takes_the_backlog_in_one_batch(fg: Gateway) -> None:
    """A reaction slower than the writers gets every event that came in meanwhile at once, in order,
    each once (Feed.batches): not one turn per event."""

    async def events(n: int, row_id: int) -> None:
        rows = [
            {"topic": "dispute", "type_name": "Dispute", "row_id": row_id, "grid_id": 1, "kind": "reported"}
            | {"created_at": datetime.now(UTC)}
            for _ in range(n)
        ]
        async with fg.runtime.databases.session("dispute") as session, session.begin():
            await session.execute(insert(t.DisputeOutbox), rows)
        await fg.runtime.feed.committed("dispute")

    batches = fg.runtime.feed.batches("dispute", "dispute")
    first = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0.2)  # subscribed before the first event
    await events(1, 701)
    taken = await asyncio.wait_for(first, timeout=10)
    assert [e.row_id for e in taken] == [701]
    # Three writes while the consumer is busy elsewhere: read by the tail, queued, taken together.
    for _ in range(3):
        await events(1, 702)
    await asyncio.sleep(3 * fg.settings.feed_poll_seconds)
    backlog = await asyncio.wait_for(anext(batches), timeout=10)
    assert [e.row_id for e in backlog] == [702, 702, 702]
    assert [e.id for e in backlog] == sorted({e.id for e in backlog}) and backlog[0].id > taken[-1].id
    await batches.aclose()
