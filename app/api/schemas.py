"""API schemas, separate from the table models."""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import idna
import orjson
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.models import ApiToken, AuthMode, Event, Link, Routing, Run, Store, StoreRole
from app.sync.orderinfo import order_admin_url

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_NAME = re.compile(NAME_PATTERN)
# What the validator below accepts is a subset of this: the OpenAPI document states it.
BASE_URL_PATTERN = r"^\s*[Hh][Tt][Tt][Pp][Ss]?://[^/?#@\s]+(/[^?#\s]*)?\s*$"
BASE_URL_MAX_LENGTH = 500
# Ids are INTEGER columns on PostgreSQL (and SQLite's integers end at 2**63 - 1); order ids are
# BIGINT. A larger number is refused as invalid input, not passed to the database to fail there.
MAX_ID = 2**31 - 1
MAX_ORDER_ID = 2**63 - 1
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

StoreName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=NAME_PATTERN,
        description="The store's name: a-z, 0-9, - and _, at most 64 characters.",
    ),
]
RunId = Annotated[int, Path(ge=1, le=MAX_ID)]
OrderId = Annotated[int, Path(ge=1, le=MAX_ORDER_ID, description="The order's id on its store.")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


def check_time(value: datetime | None, field: str) -> datetime | None:
    """A time from the API: without a zone it is UTC; refused outside 2000-01-01 .. tomorrow."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        value = value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError(f"{field} is out of range") from exc
    if value < EARLIEST:
        raise ValueError(f"{field} must be in 2000 or later")
    if value > datetime.now(UTC) + timedelta(days=1):
        raise ValueError(f"{field} must not be in the future")
    return value


def _check_host(host: str) -> None:
    """Refuse IP addresses written in the forms that name a different address than they seem
    (`http://2852039166/` is 169.254.169.254 to the resolver)."""
    if re.fullmatch(
        r"[0-9.]+|0[xX][0-9a-fA-F.xX]*|[0-9a-fA-FxX.]*\.0[xX][0-9a-fA-F]*", host
    ) and not _is_ipv4(host):
        raise ValueError("base_url's host looks like an IP address in an unusual form; write it as a.b.c.d")


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def link_local(base_url: str) -> bool:
    """Whether the URL's host is a link-local address (169.254.0.0/16, fe80::/10), where cloud
    metadata services answer."""
    host = urlsplit(base_url).hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_link_local


# Dots that IDNA reads as a label separator (ideographic, fullwidth, halfwidth).
_DOTS = re.compile("[\u3002\uff0e\uff61]")


def _normalise_host(host: str, netloc: str) -> tuple[str, str]:
    """A host not in ASCII, in the form it is connected to: NFKC turns fullwidth and circled
    digits and letters into ASCII ("１２７.０.０.１" and "①②⑦.0.0.1" are 127.0.0.1, which the
    rules below then see), and the URL keeps that form, since httpx refuses the other one on
    every request. Returns the host and the netloc with it."""
    normal = _DOTS.sub(".", unicodedata.normalize("NFKC", host)).lower()
    if normal == host:
        return host, netloc
    if any(ch in normal for ch in "/?#@:[]%\\") or any(ch.isspace() for ch in normal):
        raise ValueError("base_url's host is not a valid host name")
    userless = netloc.rpartition("@")[2]
    port = ""
    if not userless.startswith("[") and ":" in userless:
        port = ":" + userless.rpartition(":")[2]
    return normal, normal + port


def _check_base_url(value: str) -> str:
    value = value.strip()
    if len(value) > BASE_URL_MAX_LENGTH:
        raise ValueError(f"base_url must be at most {BASE_URL_MAX_LENGTH} characters")
    parts = urlsplit(value)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("base_url must be an http:// or https:// URL of the WordPress site")
    if "@" in parts.netloc:
        raise ValueError(
            "base_url must not carry a user name or password (user:pass@): give the REST key and "
            "secret in consumer_key and consumer_secret"
        )
    if any(ch.isspace() for ch in value):
        raise ValueError("base_url must not contain spaces")
    try:
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a port that is not a number in 0..65535
    except ValueError as exc:
        raise ValueError("base_url has an invalid host or port") from exc
    if not host:
        raise ValueError("base_url has no host name")
    netloc = parts.netloc
    if not host.isascii():
        host, netloc = _normalise_host(host, parts.netloc)
    ascii_host = host
    if not host.isascii():
        # An international name is kept as people wrote it (the store's own links use that
        # form), but it must have the ASCII (punycode) form the connection will use.
        try:
            ascii_host = idna.encode(host).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError("base_url's host is not a valid host name") from exc
    host = ascii_host
    if not re.fullmatch(r"[A-Za-z0-9.-]+|[0-9A-Fa-f:.]+(%[A-Za-z0-9]+)?", host):
        raise ValueError("base_url's host is not a valid host name or IP address")
    _check_host(host)
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
    return f"{parts.scheme.lower()}://{netloc}{path}"


_BASE_URL_DOC = (
    "The WordPress site's URL, http:// or https://, possibly with a path (a multisite sub-site); no "
    "user:password@, query string, fragment or /wp-json. Link-local hosts (169.254.0.0/16, fe80::/10) "
    "are refused unless WCSYNC_ALLOW_LINK_LOCAL_URLS is set."
)
_BACKFILL_DOC = "Also replicate orders created since then (2000 or later, not in the future; UTC if no zone)."


class StoreCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        description="Slug: lower-case letters, digits, - and _.",
        json_schema_extra={"pattern": NAME_PATTERN, "maxLength": 64, "minLength": 1},
    )
    role: StoreRole
    base_url: str = Field(
        description=_BASE_URL_DOC,
        json_schema_extra={"pattern": BASE_URL_PATTERN, "maxLength": BASE_URL_MAX_LENGTH},
    )
    consumer_key: str = Field(min_length=1, max_length=200)
    consumer_secret: str = Field(min_length=1, max_length=200)
    auth_mode: AuthMode = AuthMode.auto
    routing: Routing = Routing.all
    enabled: bool = True
    backfill_since: datetime | None = Field(default=None, description=_BACKFILL_DOC)
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

    @field_validator("backfill_since")
    @classmethod
    def _since(cls, value: datetime | None) -> datetime | None:
        return check_time(value, "backfill_since")


def _not_nullable(schema: dict[str, Any]) -> None:
    """The document of a field that may be left out but is never null: its type without the
    `null` branch, and no `default: null`."""
    branches = [b for b in schema.pop("anyOf", []) if b.get("type") != "null"]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("default", None)


def _base_url_update_schema(schema: dict[str, Any]) -> None:
    _not_nullable(schema)
    schema.update(pattern=BASE_URL_PATTERN, maxLength=BASE_URL_MAX_LENGTH)


_NOT_NULL = ("base_url", "consumer_key", "consumer_secret", "auth_mode", "routing", "enabled")


class StoreUpdate(BaseModel):
    """Only the fields given change. The store's NOT NULL columns may be left out but not set to
    null (a null was a 500 at commit); `backfill_since` and `max_concurrency` take null to clear."""

    model_config = ConfigDict(extra="forbid")

    # None here only means "not given" (model_dump(exclude_unset=True) leaves it out); a null
    # sent is refused below, and the document does not offer it.
    base_url: str | None = Field(
        default=None, description=_BASE_URL_DOC, json_schema_extra=_base_url_update_schema
    )
    consumer_key: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=_not_nullable
    )
    consumer_secret: str | None = Field(
        default=None, min_length=1, max_length=200, json_schema_extra=_not_nullable
    )
    auth_mode: AuthMode | None = Field(default=None, json_schema_extra=_not_nullable)
    routing: Routing | None = Field(default=None, json_schema_extra=_not_nullable)
    enabled: bool | None = Field(default=None, json_schema_extra=_not_nullable)
    backfill_since: datetime | None = Field(default=None, description=_BACKFILL_DOC)
    max_concurrency: int | None = Field(default=None, ge=1, le=16)

    @field_validator(*_NOT_NULL, mode="before")
    @classmethod
    def _not_null(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            raise ValueError(f"{info.field_name} may be left out, but not null")
        return value

    @field_validator("base_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_base_url(value)

    @field_validator("backfill_since")
    @classmethod
    def _since(cls, value: datetime | None) -> datetime | None:
        return check_time(value, "backfill_since")


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
    order_storage: Literal["posts", "hpos"] | None = Field(
        default=None,
        description="Where the store keeps its orders (found by the store check): `posts` or `hpos` "
        "(WooCommerce's order tables). Their admin screens differ; null until found.",
    )

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
            order_storage=store.order_storage if store.order_storage in ("posts", "hpos") else None,  # type: ignore[arg-type]
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

    @classmethod
    def of(cls, verdict: Any) -> StoreCheck:
        """From the domain's verdict (app.sync.stores.StoreCheck)."""
        return cls(
            store=verdict.store,
            ok=verdict.ok,
            checks=[CheckItem(name=c.name, ok=c.ok, detail=c.detail) for c in verdict.checks],
            clock_skew_seconds=verdict.clock_skew_seconds,
        )


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    direction: Literal["both", "main_to_sub", "sub_to_main"] = "both"
    store: str | None = Field(default=None, json_schema_extra={"pattern": NAME_PATTERN, "maxLength": 64})
    mode: Literal["smart", "full"] = "smart"
    since: datetime | None = Field(
        default=None,
        description="Full sync: only orders created since then (2000 or later, not in the future).",
    )

    @field_validator("since")
    @classmethod
    def _since(cls, value: datetime | None) -> datetime | None:
        return check_time(value, "since")


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
    admin_url: str | None = Field(
        default=None,
        description="The order's edit screen in its store's WordPress admin (posts or HPOS form); "
        "null when there is no order yet or the store's order storage is not known.",
    )


class OrderSummary(BaseModel):
    """An origin order as wcsync last read it."""

    status: str
    customer: str | None = Field(description="The billing name (else shipping name, else company).")
    total: str | None = Field(description="The order's total as the store wrote it.")
    currency: str | None
    created_at: datetime | None = Field(description="When it was placed (UTC).")

    @classmethod
    def of(cls, facts: Any) -> OrderSummary:
        """From app.sync.repository.OrderFacts."""
        return cls.model_construct(
            status=facts.status,
            customer=facts.customer,
            total=facts.total,
            currency=facts.currency,
            created_at=facts.created_gmt,
        )


def _plain(value: Any) -> Any:
    """An enum member as its value (a str field built without validation must hold a str)."""
    return value.value if isinstance(value, Enum) else value


def _ref(
    stores: dict[int, Any] | None, names: dict[int, str], store_id: int, order_id: int | None
) -> OrderRef:
    facts = stores.get(store_id) if stores else None
    # Built without validation: the values come from the ledger (a page builds 1,000 of these).
    if facts is None:
        return OrderRef.model_construct(store=names.get(store_id, "?"), order_id=order_id, admin_url=None)
    return OrderRef.model_construct(
        store=facts.name,
        order_id=order_id,
        admin_url=order_admin_url(facts.base_url, facts.order_storage, order_id),
    )


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
    order: OrderSummary | None = Field(
        default=None, description="The origin order as wcsync last read it (null if never read)."
    )

    @classmethod
    def of(
        cls,
        link: Link | Any,
        names: dict[int, str],
        *,
        stores: dict[int, Any] | None = None,
        orders: dict[tuple[int, int], Any] | None = None,
    ) -> LinkRead:
        """From a link, or a row of its columns (repository.LINK_PAGE_COLUMNS); with `stores`
        (repository.store_facts) its orders' admin links, with `orders` (repository.order_facts)
        its origin order's summary."""
        assert link.id is not None
        facts = (orders or {}).get((link.origin_store_id, link.origin_order_id))
        # Built without validation (the ledger's own values): validating a 500-link page cost
        # more than reading it.
        return cls.model_construct(
            id=link.id,
            direction=_plain(link.direction),
            origin=_ref(stores, names, link.origin_store_id, link.origin_order_id),
            target=_ref(stores, names, link.target_store_id, link.target_order_id),
            order=OrderSummary.of(facts) if facts is not None else None,
            state=_plain(link.state),
            attempts=link.attempts,
            next_attempt_at=link.next_attempt_at,
            last_error=link.last_error,
            last_error_code=link.last_error_code,
            synced_at=link.synced_at,
            updated_at=link.updated_at,
        )


def link_page_json(
    links: Sequence[Any],
    names: dict[int, str],
    *,
    stores: dict[int, Any],
    orders: dict[tuple[int, int], Any],
    total: int,
    limit: int,
    offset: int,
    next_before: int | None,
) -> bytes:
    """A `LinkPage` as JSON, the same bytes as `LinkPage.model_dump_json()` of the `LinkRead.of`
    rows, written by orjson from plain dicts: building and serializing a pydantic object per row
    was about a fifth of a 200-link page's CPU (tests/api check both give the same bytes)."""

    def ref(store_id: int, order_id: int | None) -> dict[str, Any]:
        facts = stores.get(store_id)
        if facts is None:
            return {"store": names.get(store_id, "?"), "order_id": order_id, "admin_url": None}
        return {
            "store": facts.name,
            "order_id": order_id,
            "admin_url": order_admin_url(facts.base_url, facts.order_storage, order_id),
        }

    def summary(facts: Any) -> dict[str, Any] | None:
        if facts is None:
            return None
        return {
            "status": facts.status,
            "customer": facts.customer,
            "total": facts.total,
            "currency": facts.currency,
            "created_at": facts.created_gmt,
        }

    items = [
        {
            "id": link.id,
            "direction": _plain(link.direction),
            "origin": ref(link.origin_store_id, link.origin_order_id),
            "target": ref(link.target_store_id, link.target_order_id),
            "state": _plain(link.state),
            "attempts": link.attempts,
            "next_attempt_at": link.next_attempt_at,
            "last_error": link.last_error,
            "last_error_code": link.last_error_code,
            "synced_at": link.synced_at,
            "updated_at": link.updated_at,
            "order": summary(orders.get((link.origin_store_id, link.origin_order_id))),
        }
        for link in links
    ]
    page = {"items": items, "total": total, "limit": limit, "offset": offset, "next_before": next_before}
    return orjson.dumps(page, option=orjson.OPT_UTC_Z)


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
    admin_url: str | None = Field(default=None, description="The order's edit screen on its store.")
    order: OrderSummary | None = Field(
        default=None, description="The origin order as wcsync last read it (null if never read)."
    )
    run_id: int | None = None
    links: list[LinkRead]
    events: list[EventRead]


class LinkPage(BaseModel):
    items: list[LinkRead]
    total: int = Field(description="Links matching the filters, in all (a count the database keeps).")
    limit: int
    offset: int
    next_before: int | None = Field(
        default=None,
        description="Pass as `before` for the next page (keyset: as fast on page 10,000 as on page 1); "
        "null on the last page.",
    )


class DirectionCounts(BaseModel):
    main_to_sub: int
    sub_to_main: int


class Pending(BaseModel):
    orders: int = Field(
        description="Orders waiting to be synced, each counted once however many copies it waits for: "
        "the badge's number."
    )
    copies: int = Field(description="Writes waiting: copies to make or update, and statuses to write back.")
    total: int = Field(description="The same as `orders` (clients of the first API show it).")
    orders_by_direction: DirectionCounts = Field(
        description="Orders waiting per direction (an order with work both ways is in both)."
    )
    copies_by_direction: DirectionCounts
    main_to_sub: dict[str, int] = Field(
        description="Per sub-store: main-store orders waiting to be copied or updated there, and statuses "
        "set on the main store's copies of its orders waiting to go back to it."
    )
    sub_to_main: dict[str, int] = Field(
        description="Per sub-store: its orders waiting to be copied to the main store, and statuses set on "
        "its copies of main-store orders waiting to go back to the main store."
    )
    failed: int = Field(description="Orders with at least one copy parked as failed (not in `orders`).")
    failed_copies: int = Field(description="Copies parked as failed.")
    stores_failing: list[str] = Field(
        default_factory=list,
        description=(
            "Stores whose last request failed (since their last success): orders there may be waiting unseen."
        ),
    )


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str = Field(
        description="The store whose WordPress plugin will use the token.",
        json_schema_extra={"pattern": NAME_PATTERN, "maxLength": 64, "minLength": 1},
    )
    label: str = Field(default="", max_length=100, description="A note for people, e.g. where it is used.")

    @field_validator("store")
    @classmethod
    def _store(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("store must be a store name: a-z, 0-9, - and _, at most 64 characters")
        return value


class TokenRead(BaseModel):
    id: int
    store: str
    label: str
    hint: str = Field(description="The token's first characters, to tell tokens apart.")
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken, store: str) -> TokenRead:
        assert token.id is not None
        return cls(
            id=token.id,
            store=store,
            label=token.label,
            hint=token.hint,
            created_at=token.created_at,
            last_used_at=token.last_used_at,
        )


class TokenCreated(TokenRead):
    token: str = Field(description="The token itself: shown this once, stored only hashed.")
