"""A sixth domain that lives only in the tests (社区公告 / a grid's notice board): registered
next to the five real ones, it proves a domain needs no change to ``gateway/`` — its own
database URL, its own migrations, policy lines, root field and type."""

from __future__ import annotations

from pathlib import Path

from gateway.kernel import Domain
from tests.extra_domain import tables as t
from tests.extra_domain import types
from tests.extra_domain.queries import NoticeQuery

DOMAIN = Domain(
    name="notice",
    metadata=t.NoticeBase.metadata,
    query=NoticeQuery,
    types={"Notice": (t.Notice, types.Notice)},
    migrations=Path(__file__).parent / "migrations",
)
