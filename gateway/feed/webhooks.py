"""Webhook subscriptions: a partner's subscription document, delivered by HTTP POST from the outbox.

A webhook belongs to one principal through one of its tokens: each delivery is read under that
token, as a live socket would be (``gateway.transport.webhooks``). The token and the signing
secret are kept sealed (Fernet, with a key derived from the server's secret); the secret is
shown once, when the webhook is added.

Where a webhook stands in each outbox it reads is persisted (``positions``), so nothing is lost
across restarts; one worker at a time holds a webhook by a lease on its row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.fernet import Fernet
from sqlalchemy import DateTime, Index, Integer, Select, String, Text, bindparam, delete, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from gateway.auth import TOKEN_DOMAIN
from gateway.data import Databases, GatewayBase

Topic = tuple[str, str]  # (domain, topic)


class Webhook(GatewayBase):
    __tablename__ = "gateway_webhook"
    # A webhook's ID is in every delivery's ID: never handed out again after a removal.
    __table_args__ = ({"sqlite_autoincrement": True},)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    principal_id: Mapped[str] = mapped_column(String(64))
    token_id: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(String(2000))
    document: Mapped[str] = mapped_column(Text)
    operation_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    variables: Mapped[str] = mapped_column(Text, default="{}")
    purpose: Mapped[str | None] = mapped_column(String(400), nullable=True)
    # The outboxes the document reads, "domain/topic,…"; and the last event delivered from each (JSON).
    feeds: Mapped[str] = mapped_column(String(400))
    positions: Mapped[str] = mapped_column(Text)
    sealed_token: Mapped[str] = mapped_column(Text)
    sealed_secret: Mapped[str] = mapped_column(Text)
    # The event at the head: how often it was tried, when next, and why the last try failed.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(400), nullable=True)
    delivered: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    last_delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class WebhookFailure(GatewayBase):
    """A delivery given up after the last attempt: the receiver never acknowledged this event."""

    __tablename__ = "gateway_webhook_failure"
    __table_args__ = (Index("ix_gateway_webhook_failure_webhook", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(Integer)
    event_id: Mapped[str] = mapped_column(String(80))
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str] = mapped_column(String(400))
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def feeds_of(webhook: Webhook) -> list[Topic]:
    return [(domain, topic) for domain, _, topic in (part.partition("/") for part in webhook.feeds.split(","))]


def positions_of(webhook: Webhook) -> dict[str, int]:
    return {str(k): int(v) for k, v in json.loads(webhook.positions).items()}


def sealing_key(secret: str) -> bytes:
    """The Fernet key for webhook secrets and tokens, derived so that it reveals nothing of ``secret``."""
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), b"gateway webhook key", hashlib.sha256).digest())


@dataclass(frozen=True)
class NewWebhook:
    principal_id: str
    token_id: str
    token: str
    url: str
    document: str
    operation_name: str | None
    variables: dict[str, object]
    purpose: str | None
    feeds: list[Topic]
    positions: dict[str, int]


class WebhookStore:
    def __init__(self, databases: Databases, key: bytes) -> None:
        self._databases = databases
        self._fernet = Fernet(key)

    def unseal(self, sealed: str) -> str:
        return self._fernet.decrypt(sealed.encode()).decode()

    async def add(self, new: NewWebhook) -> tuple[Webhook, str]:
        """Store a webhook; its signing secret is returned here, once, and kept only sealed."""
        secret = "whsec_" + secrets.token_urlsafe(32)
        row = Webhook(
            principal_id=new.principal_id,
            token_id=new.token_id,
            url=new.url,
            document=new.document,
            operation_name=new.operation_name,
            variables=json.dumps(new.variables, ensure_ascii=False),
            purpose=new.purpose,
            feeds=",".join(f"{domain}/{topic}" for domain, topic in new.feeds),
            positions=json.dumps(new.positions),
            sealed_token=self._fernet.encrypt(new.token.encode()).decode(),
            sealed_secret=self._fernet.encrypt(secret.encode()).decode(),
            attempts=0,
            delivered=0,
            failed=0,
            created_at=datetime.now(UTC),
        )
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            session.add(row)
        return row, secret

    async def all(self) -> list[Webhook]:
        async with self._databases.session(TOKEN_DOMAIN) as session:
            return list(await session.scalars(select(Webhook).order_by(Webhook.id)))

    async def get(self, webhook_id: int) -> Webhook | None:
        async with self._databases.session(TOKEN_DOMAIN) as session:
            return await session.get(Webhook, webhook_id)

    async def failures(self, webhook_id: int, limit: int = 5) -> list[WebhookFailure]:
        stmt = (
            select(WebhookFailure)
            .where(WebhookFailure.webhook_id == webhook_id)
            .order_by(WebhookFailure.id.desc())
            .limit(limit)
        )
        async with self._databases.session(TOKEN_DOMAIN) as session:
            return list(await session.scalars(stmt))

    async def remove(self, webhook_id: int) -> bool:
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            result = await session.execute(delete(Webhook).where(Webhook.id == webhook_id))
            await session.execute(delete(WebhookFailure).where(WebhookFailure.webhook_id == webhook_id))
        return bool(getattr(result, "rowcount", 0))

    async def due(self, now: datetime) -> list[int]:
        """Webhooks whose next attempt is due and that no other worker holds."""
        # Kept compiled: asked every time the feed reads new events.
        due = self._databases.kept(TOKEN_DOMAIN, _due)
        return [int(row["id"]) for row in await self._databases.rows(TOKEN_DOMAIN, due.bound(now=now))]

    async def lease(self, webhook_id: int, owner: str, seconds: float) -> Webhook | None:
        """Hold a webhook for ``seconds``, unless another worker holds it: one conditional UPDATE, so
        on SQLite and PostgreSQL alike two workers never both win it."""
        now = datetime.now(UTC)
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            result = await session.execute(
                update(Webhook)
                .where(
                    Webhook.id == webhook_id,
                    or_(Webhook.lease_until.is_(None), Webhook.lease_until < now, Webhook.lease_owner == owner),
                )
                .values(lease_owner=owner, lease_until=now + timedelta(seconds=seconds))
            )
            if not getattr(result, "rowcount", 0):
                return None
            return await session.get(Webhook, webhook_id)

    async def release(self, webhook_id: int, owner: str) -> None:
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            await session.execute(
                update(Webhook)
                .where(Webhook.id == webhook_id, Webhook.lease_owner == owner)
                .values(lease_owner=None, lease_until=None)
            )

    async def advance(self, webhook: Webhook, owner: str, domain: str, event: int, delivered: bool) -> None:
        """The head event is done (delivered, or not for this principal to see): move past it."""
        positions = positions_of(webhook)
        positions[domain] = event
        webhook.positions = json.dumps(positions)
        values: dict[str, object] = {
            "positions": webhook.positions,
            "attempts": 0,
            "next_attempt_at": None,
            "last_error": None,
        }
        if delivered:
            values.update(delivered=Webhook.delivered + 1, last_delivered_at=datetime.now(UTC))
        await self._update(webhook.id, owner, values)

    async def retry_later(self, webhook: Webhook, owner: str, error: str, wait: float, attempted: bool) -> None:
        """The head event was not delivered: try again after ``wait`` seconds (an attempt when sent)."""
        values: dict[str, object] = {
            "last_error": error[:400],
            "next_attempt_at": datetime.now(UTC) + timedelta(seconds=wait),
        }
        if attempted:
            values["attempts"] = Webhook.attempts + 1
        await self._update(webhook.id, owner, values)

    async def give_up(self, webhook: Webhook, owner: str, domain: str, event: int, error: str) -> None:
        """The last attempt failed: the delivery is marked failed and the webhook moves on."""
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            session.add(
                WebhookFailure(
                    webhook_id=webhook.id,
                    event_id=f"{domain}:{event}",
                    attempts=webhook.attempts + 1,
                    error=error[:400],
                    failed_at=datetime.now(UTC),
                )
            )
        await self.advance(webhook, owner, domain, event, delivered=False)
        await self._update(webhook.id, owner, {"failed": Webhook.failed + 1, "last_error": error[:400]})

    async def _update(self, webhook_id: int, owner: str, values: dict[str, object]) -> None:
        async with self._databases.session(TOKEN_DOMAIN) as session, session.begin():
            await session.execute(
                update(Webhook).where(Webhook.id == webhook_id, Webhook.lease_owner == owner).values(**values)
            )


def _due() -> Select[int]:
    now = bindparam("now", None, DateTime(timezone=True))
    return (
        select(Webhook.id.label("id"))
        .where(
            or_(Webhook.next_attempt_at.is_(None), Webhook.next_attempt_at <= now),
            or_(Webhook.lease_until.is_(None), Webhook.lease_until < now),
        )
        .order_by(Webhook.id)
    )
