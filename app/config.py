"""Settings, read from the environment with the prefix WCSYNC_."""

from __future__ import annotations

import ipaddress
import re
import secrets
import ssl
from functools import lru_cache
from pathlib import Path

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.db import async_database_url, sqlite_path

# 24 characters of `secrets.token_urlsafe` carry 144 bits; a shorter token is one a person typed.
MIN_ADMIN_TOKEN_LENGTH = 24


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
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Fernet key(s) that encrypt the stores' secrets, comma-separated, the first "
        "encrypts. Empty: the key file (secret_key_file) is used, created on first start.",
    )
    secret_key_file: str = Field(
        default="",
        description="Key file used when secret_key is empty. Empty: wcsync.key beside the SQLite "
        "file, or in the working directory for PostgreSQL.",
    )
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    auth_max_failures: int = Field(default=10, ge=1, description="Wrong tokens from one client per window.")
    auth_failure_window_seconds: int = Field(default=300, ge=1)
    auth_lockout_seconds: int = Field(default=60, ge=1, description="The first lockout; doubles after each.")
    auth_lockout_max_seconds: int = Field(default=3600, ge=1)
    auth_address_max_failures: int = Field(
        default=50,
        ge=1,
        description="Different wrong Bearer tokens from one address per window before the address "
        "is refused (each wrong token counts once per window: a plugin repeating its wrong token is "
        "not guessing).",
    )
    auth_token_lockout_max_seconds: int = Field(
        default=300,
        ge=1,
        description="The longest pause of one wrong token (a plugin retrying a wrong token every "
        "minute never gets more).",
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed, e.g. 127.0.0.1 for nginx on the same "
        "host. Empty: none; the throttle counts the address that connects.",
    )
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body (not webhooks)."
    )
    allow_link_local_urls: bool = Field(
        default=False,
        description="Accept store URLs on link-local addresses (169.254.0.0/16, fe80::/10), where "
        "cloud metadata services live.",
    )
    log_level: str = "INFO"
    replicate_interval_seconds: int = 300
    discover_interval_seconds: int = 60
    scheduler_enabled: bool = True
    batch_size: int = Field(
        default=50, ge=1, le=100, description="Most orders per batch request (the pace may send fewer)."
    )
    store_timeout_seconds: float = 60.0
    store_max_concurrency: int = Field(
        default=8,
        ge=1,
        le=16,
        description="Most requests at once to one store (the pace finds how many pay).",
    )
    store_start_concurrency: int = Field(
        default=2, ge=1, le=16, description="Requests at once to a store before its pace has measured it."
    )
    adaptive_pace: bool = Field(
        default=True,
        description="Learn each store's requests at once and batch size from its answers; off: always "
        "WCSYNC_STORE_MAX_CONCURRENCY and WCSYNC_BATCH_SIZE.",
    )
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
    status_map: str = Field(
        default="",
        description=(
            "What to write where a store lacks an order status a plugin registers on another: "
            "comma-separated 'status=written' entries, each for every store or, as "
            "'store:status=written', for one (e.g. 'shipped=completed,sub2:awaiting-pickup=on-hold'). "
            "Used only where the store written to lacks the status; without an entry such a link "
            "fails and says so."
        ),
    )
    content_check_interval_seconds: int = Field(
        default=60,
        ge=0,
        description="Every this many seconds, a slice of each posts-storage store's open orders is "
        "read and compared with its copies (edits WooCommerce's posts storage hides); 0: off.",
    )
    content_check_batch: int = Field(
        default=100, ge=1, le=100, description="Open orders read per store and content check."
    )
    public_url: str = Field(default="", description="URL the stores use to reach wcsync (webhooks).")
    ca_bundle: str = Field(
        default="",
        description="A PEM file of CA certificates trusted for the stores' HTTPS, besides the usual "
        "public ones (a store whose certificate comes from your own CA). Empty: the usual ones only.",
    )

    @field_validator("status_map")
    @classmethod
    def _status_map_parses(cls, value: str) -> str:
        parse_status_map(value)
        return value

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle_readable(cls, value: str) -> str:
        value = value.strip()
        if value:
            load_ca_bundle(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _trusted_proxies_parse(cls, value: str) -> str:
        parse_trusted_proxies(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)

    @model_validator(mode="after")
    def _admin_token_long_enough(self) -> Settings:
        if self.admin_token and len(self.admin_token) < MIN_ADMIN_TOKEN_LENGTH:
            raise ValueError(
                f"WCSYNC_ADMIN_TOKEN is {len(self.admin_token)} characters long; it must have at least "
                f"{MIN_ADMIN_TOKEN_LENGTH}. Make one with: python3 -c 'import secrets; "
                "print(secrets.token_hex(24))'"
            )
        return self

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

    def resolved_secret_key_file(self) -> Path:
        """Where the key file is: the setting, else beside the SQLite file, else the working directory."""
        if self.secret_key_file:
            return Path(self.secret_key_file).expanduser()
        database = sqlite_path(self.database_url)
        return (database.parent if database else Path.cwd()) / "wcsync.key"


def load_ca_bundle(context: ssl.SSLContext, path: str) -> None:
    """Add the CA certificates of the PEM file `path` to `context`; a ValueError in an owner's
    words when the file is missing or holds no certificate."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise ValueError(
            f"{path} is not a file: give the path of a PEM file holding the CA certificates to trust "
            "for the stores' HTTPS (or leave it empty)"
        )
    try:
        context.load_verify_locations(cafile=str(file))
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ValueError(
            f"{path} holds no CA certificate that can be read ({exc}); it must be PEM text "
            "(-----BEGIN CERTIFICATE----- ...)"
        ) from None


def store_tls_context(ca_bundle: str = "") -> ssl.SSLContext:
    """What wcsync trusts when it talks to a store over HTTPS: httpx's usual CA certificates
    (certifi's bundle, or SSL_CERT_FILE / SSL_CERT_DIR when set) plus WCSYNC_CA_BUNDLE's."""
    context = httpx.create_ssl_context()
    if ca_bundle:
        load_ca_bundle(context, ca_bundle)
    return context


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def parse_status_map(value: str) -> dict[tuple[str | None, str], str]:
    """WCSYNC_STATUS_MAP as {(store or None for every store, status): status written}; a
    malformed entry is refused with the entry named."""
    found: dict[tuple[str | None, str], str] = {}
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        left, sep, right = entry.partition("=")
        store, colon, status = left.strip().rpartition(":")
        status, store = status.strip().removeprefix("wc-"), store.strip()
        right = right.strip().removeprefix("wc-")
        if not sep or not _SLUG.match(status) or not _SLUG.match(right) or (colon and not store):
            raise ValueError(
                f"WCSYNC_STATUS_MAP entry {entry!r} is not 'status=written' or 'store:status=written' "
                "(order status slugs, without 'wc-')"
            )
        found[(store or None, status)] = right
    return found


def parse_trusted_proxies(value: str) -> list[str]:
    """WCSYNC_TRUSTED_PROXIES as a list of addresses and networks; a malformed entry (or "*",
    which would let any client choose the address it is counted by) is refused, named."""
    found: list[str] = []
    for raw in value.split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            parsed = (
                ipaddress.ip_network(entry, strict=False) if "/" in entry else ipaddress.ip_address(entry)
            )
        except ValueError:
            raise ValueError(
                f"WCSYNC_TRUSTED_PROXIES entry {entry!r} is not an IP address or a network such as "
                "10.0.0.0/8 (list the addresses of your reverse proxies, comma-separated)"
            ) from None
        found.append(str(parsed))
    return found


def new_admin_token() -> str:
    """A random admin token that never starts with '-', so `wcsync --token TOKEN` reads it as a value."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


@lru_cache(maxsize=1)
def _generated_token() -> str:
    return new_admin_token()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
