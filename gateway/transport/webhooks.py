"""Webhooks: a partner's subscription delivered by signed HTTP POST, for partners that hold no socket.

Each webhook's worker reads its outboxes from where it stands (persisted, so nothing is lost
across restarts) and, for each event, runs the stored subscription document through the one
pipeline, as the webhook's token would over a socket: re-authorised first (a revoked token, an
expired one or a disabled principal gets nothing), then read under the principal's current policy
(row scope, masks), audited per delivery. An event the principal may not see is passed over.

The body is signed with the webhook's secret: ``X-Gateway-Signature: t=<unix time>,v1=<hex
HMAC-SHA256 of "<t>.<body>">``. Delivery is at least once: a receiver that does not answer 2xx
in time gets the event again (same ``X-Gateway-Event-Id`` and ``X-Gateway-Delivery``), after
back-off doubling up to a cap; after the last attempt it is recorded as failed and the webhook
moves on. Workers share the webhooks through a lease on each row (see ``WebhookStore.lease``).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx

from gateway.data import PoolExhausted
from gateway.feed import Event, NewWebhook, Topic, Webhook, WebhookStore, feeds_of, positions_of, webhook_key
from gateway.kernel import BadUserInput, cancel_all
from gateway.pipeline import GraphQLRequest, LiveSession, Refused, Runtime, prepare

log = logging.getLogger("gateway.webhooks")
USER_AGENT = "grassroots-gateway-webhooks/1"
# Events delivered to one webhook in one turn of the sweep.
BATCH = 100
# The least time between the starts of two sweeps (seconds): a delivery waits at most this long for it.
SWEEP_GAP = 0.1


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Gateway-Signature`` value of ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def target_problem(url: str, allowed: tuple[str, ...]) -> str | None:
    """Why the gateway will not call ``url``: not http(s), credentials in it, or a host the operator
    has not allowed (``GATEWAY_WEBHOOK_HOSTS``, as ``host`` or ``host:port``)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return f"not a URL: {url!r}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "a webhook URL must be http:// or https:// with a host"
    if parts.username or parts.password:
        return "a webhook URL may not carry credentials"
    host = parts.hostname.lower()
    if host not in allowed and f"{host}:{port}" not in allowed:
        return f"{host} is not an allowed webhook host (GATEWAY_WEBHOOK_HOSTS)"
    return None


class OneEvent:
    """A feed holding one stored event: a subscription reads it if it asks for its outbox and topic."""

    def __init__(self, event: Event) -> None:
        self._event = event

    async def events(self, domain: str, topic: str, after: int | None = None) -> AsyncIterator[Event]:
        if (domain, topic) == (self._event.domain, self._event.topic):
            yield self._event

    async def committed(self, domain: str | None = None) -> None:
        return None


class Probe:
    """A feed with no events that notes which outboxes and topics a subscription asks for."""

    def __init__(self) -> None:
        self.asked: list[Topic] = []

    async def events(self, domain: str, topic: str, after: int | None = None) -> AsyncIterator[Event]:
        self.asked.append((domain, topic))
        for _ in ():
            yield _

    async def committed(self, domain: str | None = None) -> None:
        return None


async def topics_of(
    runtime: Runtime, authorization: str, request: GraphQLRequest, purpose: str | None
) -> tuple[LiveSession, list[Topic]]:
    """Check a webhook's document as its token would run it (``Refused`` if it may not), and name
    the outboxes and topics it reads."""
    session = LiveSession(runtime, authorization, purpose)
    await session.open()
    call = await prepare(runtime, session.principal, request, purpose)
    if call.type != "subscription":
        raise Refused.one("transport", "A webhook's document must be a subscription", "BAD_USER_INPUT")
    probe = Probe()
    async for _ in call.stream(session, feed=probe):
        pass
    if not probe.asked:
        raise Refused.one("operation", "This subscription reads no events for this principal", "BAD_USER_INPUT")
    return session, sorted(set(probe.asked))


def _written(event: Event) -> tuple[datetime, str]:
    at = event.created_at or datetime.min
    # SQLite hands back naive times (stored in UTC); PostgreSQL aware ones.
    return (at if at.tzinfo is not None else at.replace(tzinfo=UTC)), event.domain


async def register(
    runtime: Runtime, store: WebhookStore, url: str, token: str, request: GraphQLRequest, purpose: str | None
) -> tuple[Webhook, str]:
    """Add a webhook after checking its URL and its document as its token runs it; the webhook and
    its signing secret (shown once). It is delivered what happens from now on."""
    problem = target_problem(url, runtime.settings.allowed_webhook_hosts)
    if problem is not None:
        raise BadUserInput(problem, argument="url")
    session, topics = await topics_of(runtime, f"Bearer {token}", request, purpose)
    positions = {domain: await runtime.feed.newest(domain) for domain in sorted({domain for domain, _ in topics})}
    principal = session.principal
    new = NewWebhook(
        principal_id=principal.id,
        token_id=principal.token_id,
        token=token,
        url=url,
        document=request.query,
        operation_name=request.operation_name,
        variables=dict(request.variables or {}),
        purpose=purpose,
        feeds=topics,
        positions=positions,
    )
    return await store.add(new)


class Deliverer:
    """The webhook worker of one serving process."""

    def __init__(self, runtime: Runtime, timeout: float | None = None) -> None:
        self.runtime = runtime
        settings = runtime.settings
        self.store = WebhookStore(runtime.databases, webhook_key(settings.signing_key()))
        self.owner = uuid.uuid4().hex
        self.timeout = timeout or settings.webhook_timeout
        # No redirects followed (a receiver cannot send the gateway on to a host not allowed), no
        # proxy or credentials taken from the environment.
        self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=False, trust_env=False)
        # A lease outlasts the slowest answer the timeout allows, with room for reading and audit.
        self._lease_seconds = self.timeout * 2 + 10
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="webhooks")

    async def stop(self) -> None:
        if self._task is not None:
            await cancel_all([self._task])
            self._task = None
        await self._client.aclose()

    async def _run(self) -> None:
        activity = self.runtime.feed.activity
        while True:
            swept = time.monotonic()
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except PoolExhausted:
                # The gateway is busy serving requests: deliveries wait for the next turn.
                log.warning("no database connection came free for webhook deliveries; trying again")
            except Exception:
                log.exception("webhook sweep failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(activity.wait(), self.runtime.settings.webhook_poll_seconds)
            # Under a stream of writes, one sweep takes the events of many: not a sweep per write.
            await asyncio.sleep(max(0.0, SWEEP_GAP - (time.monotonic() - swept)))
            activity.clear()

    async def sweep(self) -> None:
        """Deliver what is due on every webhook this worker can hold, one at a time."""
        for webhook_id in await self.store.due(datetime.now(UTC)):
            webhook = await self.store.lease(webhook_id, self.owner, self._lease_seconds)
            if webhook is None:
                continue
            try:
                # A long backlog is taken in turns, so that one webhook does not hold up the others.
                for _ in range(BATCH):
                    if not await self._deliver_next(webhook):
                        break
                    refreshed = await self.store.lease(webhook_id, self.owner, self._lease_seconds)
                    if refreshed is None:
                        break
                    webhook = refreshed
            finally:
                await self.store.release(webhook_id, self.owner)

    async def _next_event(self, webhook: Webhook) -> Event | None:
        positions = positions_of(webhook)
        topics: dict[str, set[str]] = {}
        for domain, topic in feeds_of(webhook):
            topics.setdefault(domain, set()).add(topic)
        found = [
            event
            for domain, wanted in sorted(topics.items())
            if domain in self.runtime.feed.domains
            and (event := await self.runtime.feed.next_event(domain, positions.get(domain, 0), wanted)) is not None
        ]
        # Outboxes number their events apart: across them, the one written first goes first.
        return min(found, key=_written, default=None)

    async def _deliver_next(self, webhook: Webhook) -> bool:
        """Try the head event; True when it is done with and the next may follow at once."""
        settings = self.runtime.settings
        event = await self._next_event(webhook)
        if event is None:
            return False
        problem = target_problem(webhook.url, settings.allowed_webhook_hosts)
        if problem is not None:
            await self.store.retry_later(webhook, self.owner, problem, settings.webhook_backoff_cap, attempted=False)
            return False
        token = self.store.unseal(webhook.sealed_token)
        request = GraphQLRequest(webhook.document, json.loads(webhook.variables) or None, webhook.operation_name)
        session = LiveSession(self.runtime, f"Bearer {token}", webhook.purpose)
        try:
            await session.open()
            call = await prepare(self.runtime, session.principal, request, webhook.purpose)
            bodies = [body async for body in call.stream(session, feed=OneEvent(event))]
        except Refused as refused:
            # Not sent: the token or the policy refuses it now. Asked again later (not every poll: a
            # refused document is audited each time), never skipped.
            message = f"refused: {refused.errors[0]['message']}"
            wait = refused.retry_after if refused.reason == "limited" else settings.webhook_backoff_cap
            await self.store.retry_later(webhook, self.owner, message, float(wait or 60), attempted=False)
            return False
        if not bodies:
            await self.store.advance(webhook, self.owner, event.domain, event.id, delivered=False)
            return True
        error = await self._post(webhook, event, bodies[0])
        if error is None:
            await self.store.advance(webhook, self.owner, event.domain, event.id, delivered=True)
            return True
        if webhook.attempts + 1 >= settings.webhook_max_attempts:
            await self.store.give_up(webhook, self.owner, event.domain, event.id, error)
            return True
        wait = min(settings.webhook_backoff_cap, settings.webhook_backoff_seconds * 2**webhook.attempts)
        await self.store.retry_later(webhook, self.owner, error, wait, attempted=True)
        return False

    async def _post(self, webhook: Webhook, event: Event, reply: dict[str, object]) -> str | None:
        """Send one delivery; None when the receiver acknowledged it (2xx), else why not."""
        body = json.dumps({"eventId": event.event_id, **reply}, ensure_ascii=False, default=str).encode()
        secret = self.store.unseal(webhook.sealed_secret)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Gateway-Event-Id": event.event_id,
            "X-Gateway-Delivery": f"{webhook.id}/{event.event_id}",
            "X-Gateway-Attempt": str(webhook.attempts + 1),
            "X-Gateway-Signature": signature(secret, int(time.time()), body),
            # Only the status matters: the answer's body is never read, so never unpacked either.
            "Accept-Encoding": "identity",
        }
        try:
            # httpx bounds each read; this bounds the whole answer, so a receiver dripping bytes cannot hold on.
            async with (
                asyncio.timeout(self.timeout),
                self._client.stream("POST", webhook.url, content=body, headers=headers) as response,
            ):
                # The body is left unread (a receiver could send gigabytes, or a gzip bomb): closing drops it.
                status = response.status_code
        except (httpx.TimeoutException, TimeoutError):
            return "the receiver did not answer in time"
        except httpx.HTTPError as error:
            return f"could not reach the receiver: {type(error).__name__}"
        if 200 <= status < 300:
            return None
        return f"the receiver answered HTTP {status}"
