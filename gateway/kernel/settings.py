"""One settings object, read from ``GATEWAY_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

DEFAULT_DB_URL = "sqlite+aiosqlite:///var/gateway.db"


class DomainUrls(PydanticBaseSettingsSource):
    """``GATEWAY_DB_URL_<DOMAIN>`` → ``db_urls[domain]``, whatever domains are registered: the
    names come from the registry, so no field can be declared for each."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        prefix = f"{self.config.get('env_prefix', '')}DB_URL_".upper()
        urls = {name[len(prefix) :].lower(): url for name, url in os.environ.items() if name.upper().startswith(prefix)}
        # An empty value means no override, as it did for the fields this replaces.
        urls = {domain: url for domain, url in urls.items() if url}
        return {"db_urls": urls} if urls else {}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore")

    db_url: str = DEFAULT_DB_URL
    # Domain name → that domain's own database, from GATEWAY_DB_URL_<DOMAIN> (see DomainUrls).
    db_urls: dict[str, str] = Field(default_factory=dict)
    db_echo: bool = False

    host: str = "127.0.0.1"
    port: int = 8000

    secret_key: str | None = None
    secret_key_file: Path = Path("var/secret.key")
    audit_hmac_key: str | None = None
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
    max_introspection_depth: int = Field(default=20, ge=1)
    max_tokens: int = Field(default=1000, ge=1)
    min_group_size: int = Field(default=5, ge=1)
    # GATEWAY_DEMO=true (``make run``): GraphiQL's demo principal picker and /graphiql/demo-tokens.
    demo: bool = False

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, env_settings, DomainUrls(settings_cls), dotenv_settings, file_secret_settings

    @property
    def demo_mode(self) -> bool:
        """Demo mode is on only where asked for, and never under GATEWAY_ENV=production."""
        return self.demo and os.environ.get("GATEWAY_ENV", "").strip().lower() != "production"

    def db_url_for(self, domain: str) -> str:
        """The database URL of one domain: its own override, else the shared one."""
        return self.db_urls.get(domain.lower()) or self.db_url

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
