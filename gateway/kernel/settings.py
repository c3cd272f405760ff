"""One settings object, read from ``GATEWAY_*`` environment variables."""

from __future__ import annotations

import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gateway.kernel.times import DEFAULT_ZONE, zone_named

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

    # Serve one domain alone as a Federation v2 subgraph (``gateway serve --subgraph NAME``); None: all of them.
    subgraph: str | None = None

    host: str = "127.0.0.1"
    port: int = 8000

    secret_key: str | None = None
    secret_key_file: Path = Path("var/secret.key")
    audit_hmac_key: str | None = None
    token_ttl: str = "8h"
    token_issuer: str = "grassroots-gateway"
    principal_cache_seconds: float = 1.0
    # Live tokens are held in memory; each worker reads the revocation count on this beat (and at
    # once when Redis carries a revocation): the longest a revocation in another process can take
    # to reach a worker without Redis.
    revocation_poll_seconds: float = Field(default=0.25, gt=0)

    policy_dir: Path = Path("policies")
    require_purpose_for_partners: bool = False
    redis_url: str | None = None
    feed_poll_seconds: float = Field(default=0.5, gt=0)
    session_check_seconds: float = Field(default=0.5, gt=0)
    # Subscriptions one socket or event stream may run at once: each is read, checked and audited per event.
    max_subscriptions: int = Field(default=20, ge=1)
    max_page_size: int = Field(default=100, ge=1)
    default_page_size: int = Field(default=20, ge=1)
    max_query_depth: int = Field(default=12, ge=1)
    max_introspection_depth: int = Field(default=20, ge=1)
    max_tokens: int = Field(default=1000, ge=1)
    min_group_size: int = Field(default=5, ge=1)
    # Queries the read compiler can plan run as one JSON-building statement per source and link
    # level (``gateway.compile``); off: every operation runs through the resolvers.
    compiled_reads: bool = True
    # The zone times are shown in (ISO 8601 with its offset) and local dates are days of (IANA name).
    timezone: str = DEFAULT_ZONE

    # Limits on every document (GraphQL Armor's defaults); a policy's `limits:` overrides them per role.
    max_aliases: int = Field(default=15, ge=0)
    max_root_fields: int = Field(default=20, ge=1)
    max_directives: int = Field(default=50, ge=0)
    max_cost: int = Field(default=5000, ge=1)
    # Operations costing at least heavy_cost run at most heavy_slots at a time per worker (others wait).
    heavy_cost: int = Field(default=1000, ge=1)
    heavy_slots: int = Field(default=2, ge=1)
    # Seconds an operation may run before it is cancelled (TIMEOUT, HTTP 503); 0 = no bound.
    operation_timeout: float = Field(default=30.0, ge=0)
    # Once started, what startup made (schemas, policies, the ORM's and GraphQL's own structures) is
    # moved out of the garbage collector's sight, so that a large page's collections walk only what
    # requests made: a third of a 50 x 50 page's time went to walking the startup heap.
    gc_freeze: bool = True
    # Overload and bad bodies: the connection pool of each engine, the largest body, the deepest JSON.
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    db_pool_timeout: float = Field(default=5.0, gt=0)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)
    max_json_depth: int = Field(default=32, ge=2)
    retry_after_seconds: int = Field(default=5, ge=1)

    # The production switch: GraphiQL off, introspection off, GET off, unless set otherwise.
    env: Literal["development", "production"] = "development"
    graphiql: bool | None = None
    allow_get: bool | None = None
    # Who may introspect: everyone, staff (not partner tokens), nobody.
    introspection: Literal["all", "staff", "none"] | None = None
    # Browser origins allowed to call the API (comma-separated), for CORS and the WebSocket Origin check.
    cors_origins: str = ""

    # --- operations (README "Operations"): keys, trusted documents, rate limits, metrics, traces ---
    # Token signing: HS256 with the shared secret (default), or an asymmetric key ring under token_keys_dir.
    token_algorithm: Literal["HS256", "EdDSA", "RS256"] = "HS256"
    token_keys_dir: Path = Path("var/keys")
    # An external identity provider's keys (JWKS by URL or file); its tokens must carry jwks_issuer.
    jwks_url: str | None = None
    jwks_file: Path | None = None
    jwks_issuer: str | None = None
    jwks_audience: str | None = None
    jwks_principal_claim: str = "sub"
    # Automatic persisted queries remembered per process (policy `documents: automatic`).
    apq_cache_size: int = Field(default=1000, ge=1)
    # Rate-limit counts are kept under this namespace (in Redis when redis_url is set, else in memory).
    rate_limit_namespace: str = "gateway"
    # /metrics: behind this bearer token on the main port, and/or on a bind of its own.
    metrics_token: str | None = None
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    # OpenTelemetry traces go to this OTLP/HTTP endpoint when set (else OTEL_EXPORTER_OTLP_ENDPOINT).
    otlp_endpoint: str | None = None

    # Webhooks (README "Webhooks"): the hosts a target URL may name (comma-separated ``host`` or
    # ``host:port``; none by default, so no partner-supplied URL is ever called until allowed).
    webhook_hosts: str = ""
    webhook_timeout: float = Field(default=10.0, gt=0)
    webhook_max_attempts: int = Field(default=8, ge=1)
    # Back-off after the n-th failed attempt: backoff × 2^(n-1) seconds, at most backoff_cap.
    webhook_backoff_seconds: float = Field(default=2.0, gt=0)
    webhook_backoff_cap: float = Field(default=600.0, gt=0)
    webhook_poll_seconds: float = Field(default=1.0, gt=0)
    # A comment line on an idle Server-Sent Events stream, so proxies keep it open.
    sse_keepalive_seconds: float = Field(default=15.0, gt=0)

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

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        zone_named(name)
        return name

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.timezone)

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return (not self.production) if self.graphiql is None else self.graphiql

    @property
    def get_allowed(self) -> bool:
        return (not self.production) if self.allow_get is None else self.allow_get

    @property
    def introspection_for(self) -> Literal["all", "staff", "none"]:
        if self.introspection is not None:
            return self.introspection
        return "none" if self.production else "all"

    @property
    def allowed_origins(self) -> tuple[str, ...]:
        return tuple(origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip())

    @property
    def allowed_webhook_hosts(self) -> tuple[str, ...]:
        return tuple(host.strip().lower() for host in self.webhook_hosts.split(",") if host.strip())

    @property
    def demo_mode(self) -> bool:
        """Demo mode is on only where asked for, and never under the production switch."""
        return self.demo and not self.production

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
