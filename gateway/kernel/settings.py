"""One settings object, read from ``GATEWAY_*`` environment variables."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_URL = "sqlite+aiosqlite:///var/gateway.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    db_url: str = DEFAULT_DB_URL
    db_url_population: str | None = None
    db_url_grid: str | None = None
    db_url_dispute: str | None = None
    db_url_volunteer: str | None = None
    db_url_traffic: str | None = None
    db_echo: bool = False

    host: str = "127.0.0.1"
    port: int = 8000

    secret_key: str | None = None
    secret_key_file: Path = Path("var/secret.key")
    token_ttl: str = "8h"
    token_issuer: str = "grassroots-gateway"
    principal_cache_seconds: float = 30.0

    policy_dir: Path = Path("policies")
    require_purpose_for_partners: bool = False
    redis_url: str | None = None
    feed_poll_seconds: float = Field(default=0.5, gt=0)
    session_check_seconds: float = Field(default=0.5, gt=0)
    max_page_size: int = Field(default=100, ge=1)
    default_page_size: int = Field(default=20, ge=1)
    max_query_depth: int = Field(default=12, ge=1)

    def db_url_for(self, domain: str) -> str:
        """The database URL of one domain: its own override, else the shared one."""
        url = getattr(self, f"db_url_{domain}", None)
        return url or self.db_url

    def signing_key(self) -> str:
        """The token signing key; generated and stored on first use when none is set."""
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key + "\n")
        path.chmod(0o600)
        return key


@lru_cache
def get_settings() -> Settings:
    return Settings()
