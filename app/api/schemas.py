"""API schemas, separate from the table models."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.models import AuthMode, Event, Link, Routing, Run, Store, StoreRole

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _check_base_url(value: str) -> str:
    value = value.strip()
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("base_url must be an http:// or https:// URL of the WordPress site")
    if "rest_route" in parts.query:
        raise ValueError(
            "base_url must be the site URL, not a ?rest_route= URL: WooCommerce authenticates "
            "only /wp-json/ URLs, so the site needs pretty permalinks"
        )
    if parts.query or parts.fragment:
        raise ValueError("base_url must not carry a query string or fragment")
    path = parts.path.rstrip("/")
    if path.endswith("/wp-json") or "/wp-json/" in path:
        raise ValueError("base_url is the site URL (e.g. https://shop.example.com), without /wp-json")
    return f"{parts.scheme}://{parts.netloc}{path}"


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Slug: lower-case letters, digits, - and _.")
    role: StoreRole
    base_url: str
    consumer_key: str = Field(min_length=1, max_length=200)
    consumer_secret: str = Field(min_length=1, max_length=200)
    auth_mode: AuthMode = AuthMode.auto
    routing: Routing = Routing.all
    enabled: bool = True
    backfill_since: datetime | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=16)
    full_sync: bool = Field(
        default=False,
        description="Run a Full sync of this store as soon as it is added (from backfill_since if given).",
    )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("name must be a slug: a-z, 0-9, - and _, at most 64 characters")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _check_base_url(value)


class StoreUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: str | None = None
    consumer_key: str | None = Field(default=None, min_length=1, max_length=200)
    consumer_secret: str | None = Field(default=None, min_length=1, max_length=200)
    auth_mode: AuthMode | None = None
    routing: Routing | None = None
    enabled: bool | None = None
    backfill_since: datetime | None = None
    max_concurrency: int | None = Field(default=None, ge=1, le=16)

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_base_url(value)


def key_hint(key: str) -> str:
    return f"{key[:3]}…{key[-4:]}" if len(key) > 10 else "…"


class StoreRead(BaseModel):
    name: str
    full_sync_run_id: int | None = None
    role: StoreRole
    base_url: str
    consumer_key_hint: str
    auth_mode: AuthMode
    routing: Routing
    enabled: bool
    backfill_since: datetime | None
    max_concurrency: int | None
    clock_skew_seconds: float | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, store: Store) -> StoreRead:
        return cls(
            name=store.name,
            role=store.role,
            base_url=store.base_url,
            consumer_key_hint=key_hint(store.consumer_key),
            auth_mode=store.auth_mode,
            routing=store.routing,
            enabled=store.enabled,
            backfill_since=store.backfill_since,
            max_concurrency=store.max_concurrency,
            clock_skew_seconds=store.clock_skew_seconds,
            last_success_at=store.last_success_at,
            last_error=store.last_error,
            last_error_at=store.last_error_at,
            created_at=store.created_at,
        )


class CheckItem(BaseModel):
    name: str
    ok: bool
    detail: str


class StoreCheck(BaseModel):
    store: str
    ok: bool
    checks: list[CheckItem]
    clock_skew_seconds: float | None


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["both", "main_to_sub", "sub_to_main"] = "both"
    store: str | None = None
    mode: Literal["smart", "full"] = "smart"
    since: datetime | None = Field(default=None, description="Full sync: only orders created since then.")


class Progress(BaseModel):
    done: int
    total: int


class Counts(BaseModel):
    created: int
    updated: int
    skipped: int
    failed: int


class RunRead(BaseModel):
    id: int
    kind: str
    direction: str
    mode: str
    store: str | None
    order_id: int | None
    status: str
    progress: Progress
    counts: Counts
    drift: dict[str, int] = Field(default_factory=dict, description="Full sync: what it found, by kind.")
    errors: list[dict[str, Any]]
    requested_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: Run) -> RunRead:
        assert run.id is not None
        return cls(
            id=run.id,
            kind=run.kind,
            direction=run.direction,
            mode=run.mode,
            store=run.store_name,
            order_id=run.order_id,
            status=run.status,
            progress=Progress(done=run.progress_done, total=run.progress_total),
            drift=dict((run.details or {}).get("drift") or {}),
            counts=Counts(created=run.created, updated=run.updated, skipped=run.skipped, failed=run.failed),
            errors=run.errors,
            requested_at=run.requested_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )


class RunAccepted(BaseModel):
    run_id: int
    status: str
    new: bool


class OrderRef(BaseModel):
    store: str
    order_id: int | None


class LinkRead(BaseModel):
    id: int
    direction: str
    origin: OrderRef
    target: OrderRef
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    last_error_code: str | None
    synced_at: datetime | None
    updated_at: datetime

    @classmethod
    def of(cls, link: Link, names: dict[int, str]) -> LinkRead:
        assert link.id is not None
        return cls(
            id=link.id,
            direction=link.direction,
            origin=OrderRef(store=names.get(link.origin_store_id, "?"), order_id=link.origin_order_id),
            target=OrderRef(store=names.get(link.target_store_id, "?"), order_id=link.target_order_id),
            state=link.state,
            attempts=link.attempts,
            next_attempt_at=link.next_attempt_at,
            last_error=link.last_error,
            last_error_code=link.last_error_code,
            synced_at=link.synced_at,
            updated_at=link.updated_at,
        )


class EventRead(BaseModel):
    at: datetime
    kind: str
    message: str
    link_id: int | None
    run_id: int | None

    @classmethod
    def of(cls, event: Event) -> EventRead:
        return cls(
            at=event.created_at,
            kind=event.kind,
            message=event.message,
            link_id=event.link_id,
            run_id=event.run_id,
        )


class OrderSyncRead(BaseModel):
    store: str
    order_id: int
    run_id: int | None = None
    links: list[LinkRead]
    events: list[EventRead]


class LinkPage(BaseModel):
    items: list[LinkRead]
    total: int
    limit: int
    offset: int


class Pending(BaseModel):
    total: int
    main_to_sub: dict[str, int]
    sub_to_main: dict[str, int]
    failed: int
    stores_failing: list[str] = Field(
        default_factory=list,
        description=(
            "Stores whose last request failed (since their last success): orders there may be waiting unseen."
        ),
    )
