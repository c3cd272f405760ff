"""``gateway db upgrade``: Alembic, configured from code (no alembic.ini to keep in step).

Revisions come in histories. The engine's own (``migrations/versions``) holds the gateway's
tables and those of every domain that brings no migrations of its own; it runs once per
database, each revision's ``upgrade(engine_name)`` doing that database's part. A domain whose
``Domain`` entry names a ``migrations`` folder has a history of its own there: plain Alembic
revisions, run against that domain's database only. Every database keeps its own version
table (``alembic_version_<name>``), so any of them may share one database or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData

from gateway.data.base import GatewayBase
from gateway.kernel import BadUserInput, Registry, Settings, get_settings, load_registry

SCRIPTS = Path(__file__).parent / "migrations"
GATEWAY = "gateway"


@dataclass(frozen=True)
class History:
    """One line of revisions, and the databases (name → tables) it migrates."""

    versions: Path
    databases: dict[str, MetaData]
    # True for the engine's history: one run per database, revisions take ``engine_name``.
    per_database: bool


def histories(registry: Registry) -> list[History]:
    """The engine's history first, then one per domain that brings its own."""
    engine: dict[str, MetaData] = {GATEWAY: GatewayBase.metadata}
    own: list[History] = []
    for domain in registry.domains:
        if domain.migrations is not None:
            own.append(History(domain.migrations, {domain.name: domain.metadata}, per_database=False))
        elif domain.metadata.tables:  # a read model without tables has nothing to migrate
            engine[domain.name] = domain.metadata
    return [History(SCRIPTS / "versions", engine, per_database=True), *own]


def alembic_config(
    settings: Settings | None = None, registry: Registry | None = None, history: History | None = None
) -> Config:
    settings = settings or get_settings()
    history = history or histories(registry or load_registry())[0]
    config = Config()
    config.set_main_option("script_location", str(SCRIPTS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", str(history.versions))
    config.attributes["settings"] = settings
    config.attributes["history"] = history
    return config


def _configs(settings: Settings | None, registry: Registry | None, revision: str) -> list[Config]:
    """The histories ``revision`` applies to: those holding it when it is a revision id; every
    one for ``heads``, ``base`` and relative steps."""
    configs = [alembic_config(settings, registry, h) for h in histories(registry or load_registry())]
    holding = [
        c for c in configs if any(s.revision == revision for s in ScriptDirectory.from_config(c).walk_revisions())
    ]
    return holding or configs


def upgrade(settings: Settings | None = None, revision: str = "heads", registry: Registry | None = None) -> None:
    """Bring every domain's database to ``revision``. Runs its own event loop: call it from a
    thread when one is already running."""
    for config in _configs(settings, registry, revision):
        command.upgrade(config, revision)


def downgrade(revision: str, settings: Settings | None = None, registry: Registry | None = None) -> None:
    for config in reversed(_configs(settings, registry, revision)):
        command.downgrade(config, revision)


def revision(message: str, domain: str | None = None, registry: Registry | None = None) -> None:
    """Autogenerate a revision: in ``domain``'s own history, or in the engine's."""
    known = histories(registry or load_registry())
    own = [h for h in known[1:] if domain in h.databases]
    if domain is not None and not own:
        raise BadUserInput(f"domain {domain!r} has no migrations folder of its own")
    command.revision(alembic_config(registry=registry, history=(own or known)[0]), message=message, autogenerate=True)
