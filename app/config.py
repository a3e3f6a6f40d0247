"""Settings, read from the environment with the prefix WCSYNC_."""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WCSYNC_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default_factory=lambda: f"sqlite+aiosqlite:///{Path.cwd() / 'wcsync.db'}",
        description="SQLAlchemy async URL; SQLite file in the working directory by default.",
    )
    admin_token: str = Field(
        default="",
        description="Bearer token for /api. Empty: a random token is generated at start-up.",
    )
    log_level: str = "INFO"
    replicate_interval_seconds: int = 300
    discover_interval_seconds: int = 60
    scheduler_enabled: bool = True
    batch_size: int = Field(default=25, ge=1, le=100)
    store_timeout_seconds: float = 60.0
    store_max_concurrency: int = Field(default=2, ge=1, le=16)
    discovery_overlap_seconds: int = Field(
        default=10,
        ge=2,
        description="Each discovery pass re-reads (ids and dates only) this far before its cursor.",
    )
    clock_max_age_seconds: int = Field(
        default=300, ge=10, description="A store's clock is read again before use when older than this."
    )
    reconcile_margin_seconds: int = 300
    lease_seconds: int = 600
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 3600.0
    catalog_ttl_seconds: int = 600
    origin_note: bool = True
    copy_meta_allow: str = Field(
        default="*",
        description=(
            "Comma-separated patterns of the origin order's own meta keys a replica carries. Private "
            "(underscore) keys travel only when a pattern starting with '_' names them."
        ),
    )
    copy_meta_deny: str = Field(
        default="", description="Comma-separated patterns of order meta keys never copied to a replica."
    )
    replicate_statuses: str = Field(
        default="processing,on-hold,completed",
        description="Origin statuses that are replicated; others wait until they reach one.",
    )
    public_url: str = Field(default="", description="URL the stores use to reach wcsync (webhooks).")

    @model_validator(mode="after")
    def _lease_outlives_a_request(self) -> Settings:
        if self.lease_seconds <= self.store_timeout_seconds:
            raise ValueError(
                "WCSYNC_LEASE_SECONDS must be longer than WCSYNC_STORE_TIMEOUT_SECONDS, or a link "
                "could be taken over while its request is still running"
            )
        return self

    def resolved_admin_token(self) -> str:
        return self.admin_token or _generated_token()


@lru_cache(maxsize=1)
def _generated_token() -> str:
    return secrets.token_urlsafe(24)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
