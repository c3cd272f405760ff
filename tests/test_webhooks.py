"""Webhooks: a partner's subscription delivered by signed POST to a real receiver on loopback —
read under the partner's policy, audited per delivery, retried, never twice at once, and stopped
when its token is revoked."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from gateway.audit.tables import AuditRecord
from gateway.auth import TOKEN_DOMAIN
from gateway.data import decode_pk
from gateway.feed import Webhook, WebhookStore, positions_of, webhook_key
from gateway.kernel import BadUserInput
from gateway.pipeline import GraphQLRequest, Refused
from gateway.transport.webhooks import Deliverer, register, target_problem
from resolvers.grid import tables as grid_tables
from tests.harness import DEMO, Gateway, database_url, running_gateway
from tests.live import Receiver, dispute_event, receiving, verified

DOCUMENT = """subscription Escalations {
  disputeUpdated { eventId kind dispute { id status title parties { name phone idNumber } } }
}"""
NODE = """query($id: ID!) { node(id: $id) { ... on Dispute { id status title parties { name phone idNumber } } } }"""
REPORT = "mutation($input: ReportDisputeInput!) { reportDispute(input: $input) { dispute { id } } }"
STEP = "mutation($input: DisputeStepInput!) {{ {name}(input: $input) {{ dispute {{ id status }} }} }}"


@pytest.fixture(scope="module")
def hooks_url(backend_url: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend, _ = backend_url
    with database_url(backend, Path(tmp_path_factory.mktemp("webhooks"))) as url:
        yield backend, url


@pytest.fixture(scope="module")
async def gw(hooks_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    overrides: dict[str, Any] = {
        "webhook_hosts": "127.0.0.1",
        "webhook_backoff_seconds": 0.05,
        "webhook_backoff_cap": 0.2,
        "webhook_poll_seconds": 0.1,
        "webhook_max_attempts": 3,
        "webhook_timeout": 2.0,
    }
    async with running_gateway(*hooks_url, **overrides) as gateway:
        yield gateway


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with receiving() as found:
        yield found


def _store(gw: Gateway) -> WebhookStore:
    return WebhookStore(gw.runtime.databases, webhook_key(gw.settings.signing_key()))


async def _partner_token(gw: Gateway, principal: str = DEMO["judicial_office"]) -> str:
    record = await gw.runtime.directory.find(principal)
    assert record is not None
    return await gw.runtime.tokens.issue(record.id, timedelta(hours=1), record.scopes)


async def _webhook(gw: Gateway, url: str, token: str, document: str = DOCUMENT) -> tuple[Webhook, str]:
    request = GraphQLRequest(document, None, None)
    return await register(gw.runtime, _store(gw), url, token, request, "纠纷联动 webhook")


async def _report(gw: Gateway) -> str:
    given = {
        "title": "楼上噪音扰民",
        "category": "NOISE",
        "description": "夜间噪音",
        "parties": [{"role": "COMPLAINANT", "name": "李大爷", "phone": "13920003333"}],
    }
    body = (await gw.post(REPORT, {"input": given}, "grid_worker")).json()
    assert "errors" not in body, body
    return str(body["data"]["reportDispute"]["dispute"]["id"])


async def _step(gw: Gateway, name: str, dispute: str, role: str, **extra: str) -> None:
    body = (await gw.post(STEP.format(name=name), {"input": {"disputeId": dispute, **extra}}, role)).json()
    assert "errors" not in body, body


async def _remove_all(gw: Gateway) -> None:
    store = _store(gw)
    for hook in await store.all():
        await store.remove(hook.id)


async def test_a_receiver_gets_a_signed_escalation_and_recognises_the_replay(gw: Gateway, receiver: Receiver) -> None:
    token = await _partner_token(gw)
    hook, secret = await _webhook(gw, receiver.url, token)
    # The first delivery is refused by the receiver: it comes again, recognisably the same.
    receiver.answers = [500]
    deliverer = Deliverer(gw.runtime)
    deliverer.start()
    try:
        case = await _report(gw)
        await _step(gw, "acceptDispute", case, "community_police")
        await _step(gw, "escalateDispute", case, "community_police", note="移交司法所")
        await receiver.until(lambda: any(b["data"]["disputeUpdated"]["kind"] == "escalated" for b in receiver.bodies()))
    finally:
        await deliverer.stop()
        await _remove_all(gw)

    bodies = receiver.bodies()
    assert all(verified(secret, headers, body) for headers, body in receiver.received)
    (first, _first_body), (again, _again_body) = receiver.received[:2]
    assert first["x-gateway-event-id"] == again["x-gateway-event-id"] == bodies[0]["eventId"] == bodies[1]["eventId"]
    assert first["x-gateway-delivery"] == again["x-gateway-delivery"] == f"{hook.id}/{bodies[0]['eventId']}"
    assert (first["x-gateway-attempt"], again["x-gateway-attempt"]) == ("1", "2")
    # Each event once acknowledged, in order: reported, accepted, escalated.
    acknowledged = [b["data"]["disputeUpdated"]["kind"] for b in bodies[1:]]
    assert acknowledged == ["reported", "accepted", "escalated"], acknowledged
    # The escalation as the partner's policy reads it: the same as its own query, masks and all.
    escalated = bodies[-1]["data"]["disputeUpdated"]["dispute"]
    own = (
        await gw.client.post(
            "/graphql", json={"query": NODE, "variables": {"id": case}}, headers={"Authorization": f"Bearer {token}"}
        )
    ).json()["data"]["node"]
    assert escalated == own and escalated["status"] == "ESCALATED"
    assert all(p["idNumber"] is None or "*" in p["idNumber"] for p in escalated["parties"])
    # Every delivery (the refused attempt too) is in the trail, under the webhook's token.
    async with gw.runtime.databases.session(TOKEN_DOMAIN) as session:
        records = list(
            await session.scalars(
                select(AuditRecord).where(
                    AuditRecord.token_id == hook.token_id, AuditRecord.operation_type == "subscription"
                )
            )
        )
    assert len(records) == len(receiver.received)
    assert {r.purpose for r in records} == {"纠纷联动 webhook"} and {r.operation_name for r in records} == {
        "Escalations"
    }


async def test_an_event_the_partner_may_not_see_is_passed_over(gw: Gateway, receiver: Receiver) -> None:
    # 鼓楼's judicial office: 品湖苑 lies outside its street.
    hook, _ = await _webhook(gw, receiver.url, await _partner_token(gw, "judicial.gulou"))
    deliverer = Deliverer(gw.runtime)
    try:
        await dispute_event(gw, decode_pk(await _report(gw), "Dispute"), 15)
        await deliverer.sweep()
        moved = await _store(gw).get(hook.id)
        assert moved is not None and positions_of(moved)["dispute"] > positions_of(hook)["dispute"]
        assert receiver.received == [] and moved.delivered == 0
    finally:
        await deliverer.stop()
        await _remove_all(gw)


async def test_a_revoked_token_gets_no_further_deliveries(gw: Gateway, receiver: Receiver) -> None:
    hook, _ = await _webhook(gw, receiver.url, await _partner_token(gw))
    deliverer = Deliverer(gw.runtime)
    try:
        assert await gw.runtime.tokens.revoke(hook.token_id)
        await _report(gw)
        await deliverer.sweep()
        assert receiver.received == []
        held = await _store(gw).get(hook.id)
        assert held is not None and positions_of(held) == positions_of(hook)
        assert held.last_error is not None and "revoked" in held.last_error
    finally:
        await deliverer.stop()
        await _remove_all(gw)


async def _set_agency_active(gw: Gateway, principal_id: str, active: bool) -> None:
    async with gw.runtime.databases.session("grid") as session, session.begin():
        await session.execute(
            update(grid_tables.Agency).where(grid_tables.Agency.principal_id == principal_id).values(active=active)
        )


async def test_a_disabled_partner_gets_nothing_until_enabled_and_misses_nothing(
    gw: Gateway, receiver: Receiver
) -> None:
    hook, _ = await _webhook(gw, receiver.url, await _partner_token(gw))
    deliverer = Deliverer(gw.runtime)
    try:
        await _set_agency_active(gw, DEMO["judicial_office"], False)
        case = await _report(gw)
        await deliverer.sweep()
        held = await _store(gw).get(hook.id)
        assert receiver.received == [] and held is not None and "disabled" in (held.last_error or "")
        await _set_agency_active(gw, DEMO["judicial_office"], True)
        await asyncio.sleep(gw.settings.webhook_backoff_cap)
        await deliverer.sweep()
        [delivered] = receiver.bodies()
        assert delivered["data"]["disputeUpdated"]["dispute"]["id"] == case
    finally:
        await _set_agency_active(gw, DEMO["judicial_office"], True)
        await deliverer.stop()
        await _remove_all(gw)


async def test_a_delivery_is_marked_failed_after_the_last_attempt(gw: Gateway, receiver: Receiver) -> None:
    hook, _ = await _webhook(gw, receiver.url, await _partner_token(gw))
    receiver.answers = [503] * gw.settings.webhook_max_attempts
    deliverer = Deliverer(gw.runtime)
    store = _store(gw)
    try:
        await _report(gw)
        deadline = time.monotonic() + 10
        while not await store.failures(hook.id):
            assert time.monotonic() < deadline, "never given up"
            await deliverer.sweep()
            await asyncio.sleep(0.05)
        held = await store.get(hook.id)
        assert held is not None and (held.failed, held.delivered) == (1, 0)
        assert len(receiver.received) == gw.settings.webhook_max_attempts
        attempts = [headers["x-gateway-attempt"] for headers, _ in receiver.received]
        assert attempts == [str(n) for n in range(1, gw.settings.webhook_max_attempts + 1)]
        [failure] = await store.failures(hook.id)
        assert failure.event_id == receiver.bodies()[0]["eventId"] and "503" in failure.error
    finally:
        await deliverer.stop()
        await _remove_all(gw)


async def test_a_slow_receiver_is_cut_off_at_the_timeout(gw: Gateway, receiver: Receiver) -> None:
    hook, _ = await _webhook(gw, receiver.url, await _partner_token(gw))
    receiver.delay = 1.5
    deliverer = Deliverer(gw.runtime, timeout=0.3)
    try:
        await _report(gw)
        since = time.monotonic()
        await deliverer.sweep()
        assert time.monotonic() - since < 1.2
        held = await _store(gw).get(hook.id)
        assert held is not None and (held.attempts, held.last_error) == (1, "the receiver did not answer in time")
        assert positions_of(held) == positions_of(hook)
    finally:
        await deliverer.stop()
        await _remove_all(gw)


async def test_a_receivers_answer_body_is_never_read(gw: Gateway, receiver: Receiver) -> None:
    """Only the status counts: a body that never ends (or a compressed bomb) costs the gateway nothing."""
    hook, _ = await _webhook(gw, receiver.url, await _partner_token(gw))
    receiver.endless = True
    deliverer = Deliverer(gw.runtime, timeout=1.0)
    try:
        await _report(gw)
        await deliverer.sweep()
        held = await _store(gw).get(hook.id)
        assert held is not None and (held.delivered, held.last_error) == (1, None), held
    finally:
        await deliverer.stop()
        await _remove_all(gw)


async def test_two_workers_never_deliver_one_event_twice_and_a_restart_loses_nothing(
    gw: Gateway, receiver: Receiver
) -> None:
    await _webhook(gw, receiver.url, await _partner_token(gw))
    workers = [Deliverer(gw.runtime), Deliverer(gw.runtime)]
    try:
        # Written while no worker runs: delivered when they start, each once.
        for _ in range(3):
            await _report(gw)
        for _ in range(3):
            await asyncio.gather(*(worker.sweep() for worker in workers))
        ids = [b["eventId"] for b in receiver.bodies()]
        assert len(ids) == 3 and len(set(ids)) == 3, ids
        assert ids == sorted(ids, key=lambda text: int(text.split(":")[1]))
    finally:
        for worker in workers:
            await worker.stop()
        await _remove_all(gw)


async def test_only_allowed_http_targets(gw: Gateway) -> None:
    allowed = ("127.0.0.1", "hooks.example:8443")
    assert target_problem("http://127.0.0.1:9/hook", allowed) is None
    assert target_problem("https://hooks.example:8443/x", allowed) is None
    for refused in (
        "https://hooks.example/x",  # the allowed port only
        "http://169.254.169.254/latest/meta-data",
        "http://localhost/hook",
        "ftp://127.0.0.1/hook",
        "http://user:pw@127.0.0.1/hook",
        "file:///etc/passwd",
        "http://[::1",
    ):
        assert target_problem(refused, allowed) is not None, refused
    token = await _partner_token(gw)
    with pytest.raises(BadUserInput):
        await _webhook(gw, "http://10.0.0.1/hook", token)
    # A document the token may not run, or that is not a subscription, is refused as it would be over a socket.
    with pytest.raises(Refused):
        await _webhook(gw, "http://127.0.0.1/hook", token, "subscription { residentChanged { eventId } }")
    with pytest.raises(Refused):
        await _webhook(gw, "http://127.0.0.1/hook", token, "{ me { id } }")
    assert await _store(gw).all() == []
