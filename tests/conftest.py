from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.harness import Gateway, database_url, running_gateway

BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    backend = str(request.param)
    with database_url(backend, tmp_path_factory.mktemp(backend)) as url:
        yield backend, url


@pytest.fixture(scope="session")
async def gw(backend_url: tuple[str, str]) -> AsyncIterator[Gateway]:
    """The demo gateway on each backend: SQLite always, PostgreSQL when configured."""
    async with running_gateway(*backend_url) as gateway:
        yield gateway


@pytest.fixture
def tmp_sqlite(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"


@pytest.fixture
def access_lines() -> Iterator[list[str]]:
    """The lines the gateway's access log writes during a test."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    logger = logging.getLogger("gateway.access")
    keep = Keep()
    logger.addHandler(keep)
    yield lines
    logger.removeHandler(keep)
