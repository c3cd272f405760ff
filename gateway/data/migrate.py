"""``gateway db upgrade``: Alembic, configured from code (no alembic.ini to keep in step)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from gateway.kernel import Settings, get_settings

SCRIPTS = Path(__file__).parent / "migrations"


def alembic_config(settings: Settings | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.attributes["settings"] = settings or get_settings()
    return config


def upgrade(settings: Settings | None = None, revision: str = "heads") -> None:
    """Bring every domain's database to ``revision``. Runs its own event loop: call it from a
    thread when one is already running."""
    command.upgrade(alembic_config(settings), revision)


def downgrade(revision: str, settings: Settings | None = None) -> None:
    command.downgrade(alembic_config(settings), revision)


def revision(message: str) -> None:
    command.revision(alembic_config(), message=message, autogenerate=True)
