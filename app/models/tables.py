"""The ledger: stores, cursors, source snapshots, links, runs and events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from app.crypto import EncryptedText
from app.models.enums import AuthMode, Direction, LinkState, Routing, RunStatus, StoreRole


def utcnow() -> datetime:
    return datetime.now(UTC)


class Store(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=sa.String(64), unique=True, index=True)
    role: StoreRole = Field(sa_type=sa.String(8))
    base_url: str = Field(sa_type=sa.String(500))
    # Encrypted at rest (app.crypto); read and written as plain values.
    consumer_key: str = Field(sa_type=EncryptedText)
    consumer_secret: str = Field(sa_type=EncryptedText)
    auth_mode: AuthMode = Field(default=AuthMode.auto, sa_type=sa.String(8))
    routing: Routing = Field(default=Routing.all, sa_type=sa.String(8))
    enabled: bool = True
    backfill_since: datetime | None = None
    max_concurrency: int | None = None
    # The store's clock minus ours as last read, with its error bound and when (our clock).
    clock_skew_seconds: float | None = None
    clock_skew_bound: float | None = None
    clock_measured_at: datetime | None = None
    # From when (store clock) its orders are new to wcsync: set when the store is added, from its
    # backfill date or the moment of adding on the store's own clock.
    orders_since: datetime | None = None
    catalog_refreshed_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_error_at: datetime | None = None
    webhook_secret: str | None = Field(default=None, sa_type=EncryptedText)
    # The store runs the wcsync-admin plugin with its `wcsync_origin` order filter on (found by
    # the store check): a replica is then found in one request.
    origin_filter: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # The store runs the wcsync-admin plugin (found by the store check), which shows on each
    # replica's screen the order it copies: no origin note is written there.
    admin_plugin: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    # Where the store keeps its orders, "posts" or "hpos" (found by the store check from
    # system_status): the order's admin screen differs. None until found.
    order_storage: str | None = Field(default=None, sa_type=sa.String(8))
    # Removing a store archives it: its ledger is kept (hidden from lists and counts) and comes
    # back when a store with the same base URL is added again.
    archived_at: datetime | None = None
    # When the orders already on the store that carry `_wcsync_origin` were last taken into the
    # ledger; none yet means the store is new to the ledger, and no copy is made there before.
    inventory_at: datetime | None = None
    # The earliest creation (store clock, less a margin) from which that inventory looked: an
    # origin created before it makes the inventory look further back before its first copy.
    inventory_since: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Cursor(SQLModel, table=True):
    """How far a store's orders have been discovered, per direction (store clock, UTC)."""

    __table_args__ = (sa.UniqueConstraint("store_id", "direction", name="uq_cursor_store_dir"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="store.id", ondelete="CASCADE")
    direction: Direction = Field(sa_type=sa.String(16))
    position: datetime
    updated_at: datetime = Field(default_factory=utcnow)


class SourceOrder(SQLModel, table=True):
    """The last version of an origin order that discovery read; replication maps from it."""

    __tablename__ = "source_order"
    __table_args__ = (sa.UniqueConstraint("store_id", "order_id", name="uq_source_order"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="store.id", ondelete="CASCADE")
    order_id: int = Field(sa_type=sa.BigInteger)
    modified_gmt: datetime
    status: str = Field(sa_type=sa.String(32))
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    seen_at: datetime = Field(default_factory=utcnow)
    # What a list of orders shows, kept beside the body when it is read (app.sync.orderinfo),
    # so that a page of links never loads order bodies.
    customer: str | None = Field(default=None, sa_type=sa.String(200))
    total: str | None = Field(default=None, sa_type=sa.String(32))
    currency: str | None = Field(default=None, sa_type=sa.String(8))
    created_gmt: datetime | None = None


class Link(SQLModel, table=True):
    """One origin order on one target store."""

    __table_args__ = (
        sa.UniqueConstraint(
            "origin_store_id", "origin_order_id", "target_store_id", name="uq_link_origin_target"
        ),
        sa.Index("ix_link_origin", "origin_store_id", "origin_order_id"),
        # Claims (a target's pending links in id order) and keyset pages of /api/links, newest
        # first, by state and by store (either side). Few indexes hold `state`: each is written
        # at every change of a link's state.
        sa.Index("ix_link_state_id", "state", "id"),
        sa.Index("ix_link_origin_state_id", "origin_store_id", "state", "id"),
        sa.Index("ix_link_target_state_id", "target_store_id", "state", "id"),
        # The origin notes still to write, per target: few rows among millions.
        sa.Index(
            "ix_link_note_due",
            "target_store_id",
            "id",
            sqlite_where=sa.text("origin_note_due"),
            postgresql_where=sa.text("origin_note_due"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    origin_store_id: int = Field(foreign_key="store.id", ondelete="CASCADE")
    origin_order_id: int = Field(sa_type=sa.BigInteger)
    target_store_id: int = Field(foreign_key="store.id", ondelete="CASCADE")
    direction: Direction = Field(sa_type=sa.String(16))
    target_order_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    state: LinkState = Field(default=LinkState.pending, sa_type=sa.String(16))
    attempts: int = 0
    next_attempt_at: datetime | None = None
    lease_until: datetime | None = None
    lease_owner: str | None = Field(default=None, sa_type=sa.String(64))
    attempt_started_at: datetime | None = None
    # How the last create attempt ended when it is not known to have worked: "unknown" (no
    # reply: timeout, dropped connection, 5xx) or "rejected" (the store answered with an error,
    # which on WooCommerce can still leave a half-made order behind).
    attempt_outcome: str | None = Field(default=None, sa_type=sa.String(16))
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    last_error_code: str | None = Field(default=None, sa_type=sa.String(80))
    source_modified_gmt: datetime | None = None
    pushed_modified_gmt: datetime | None = None
    # What the replica holds as far as wcsync knows: what it last wrote there or saw there.
    # A replica newer than `replica_modified_gmt` changed on its store; comparing before acting
    # is what keeps wcsync's own writes from coming back as changes (no echo).
    replica_status: str | None = Field(default=None, sa_type=sa.String(32))
    replica_modified_gmt: datetime | None = None
    # The run that last claimed the link: a run claims a link at most once, so a write that
    # fails waits for the retry policy even under Sync Now.
    claimed_run: int | None = None
    # {origin refund id: replica refund id or ""}: the origin refunds confirmed on the replica,
    # so that a replica is read for refunds only when the origin has a new one (never what to
    # write: that comes from both stores as they are). {"to_target": [...], "to_origin": [...]}:
    # note ids copied.
    refunds_done: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    notes_done: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # A status set on the replica's store that must be written back to the origin.
    status_to_origin: str | None = Field(default=None, sa_type=sa.String(32))
    last_seen_run: int | None = None
    # The replica was created and its origin note ("Replicated by wcsync from order #…") is
    # still to be written: a low-priority queue, drained after a target's creates.
    origin_note_due: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    synced_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class LinkCount(SQLModel, table=True):
    """Links per (origin store, target store) and kind: each state, and `back` (a status waiting
    to go back to the origin). Kept by triggers on `link` (migration 0007) in the transaction
    of every change, so that counts are read, never scanned."""

    __tablename__ = "link_count"

    origin_store_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    target_store_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(sa_type=sa.String(16), primary_key=True)
    direction: str = Field(sa_type=sa.String(16))
    n: int = Field(default=0, sa_type=sa.BigInteger)


class OrderState(SQLModel, table=True):
    """Per origin order with work left (links of stores in use only): its copies waiting
    (pending or in flight), statuses waiting to go back to it, and failed links. A row goes
    when all three reach 0. Kept by the same triggers."""

    __tablename__ = "order_state"

    origin_store_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    origin_order_id: int = Field(
        sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False}
    )
    waiting: int = 0
    back: int = 0
    failed: int = 0


class OrderCount(SQLModel, table=True):
    """Orders per origin store with work of a kind: `waiting`, `back`, `failed`, and `any`
    (waiting or back). What the pending badge shows: orders, not copies."""

    __tablename__ = "order_count"

    origin_store_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    kind: str = Field(sa_type=sa.String(16), primary_key=True)
    n: int = Field(default=0, sa_type=sa.BigInteger)


class CountDelta(SQLModel, table=True):
    """PostgreSQL only: a link change's counts, appended by a row trigger and folded into the
    count tables at commit (a deferred trigger), in one global order, so that concurrent
    transactions never deadlock on counter rows. Empty outside a transaction."""

    __tablename__ = "count_delta"
    __table_args__ = (sa.Index("ix_count_delta_tx", "tx"),)

    id: int | None = Field(default=None, primary_key=True)
    tx: int = Field(sa_type=sa.BigInteger)
    origin_store_id: int
    origin_order_id: int = Field(sa_type=sa.BigInteger)
    target_store_id: int
    direction: str = Field(sa_type=sa.String(16))
    state: str = Field(sa_type=sa.String(16))
    back: bool
    sign: int


class Run(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=sa.String(16))
    direction: str = Field(sa_type=sa.String(16))
    mode: str = Field(default="smart", sa_type=sa.String(8))
    store_name: str | None = Field(default=None, sa_type=sa.String(64))
    order_id: int | None = Field(default=None, sa_type=sa.BigInteger)
    status: RunStatus = Field(default=RunStatus.queued, sa_type=sa.String(16), index=True)
    progress_done: int = 0
    progress_total: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # Full sync: the drift found by kind, and where the walk is (to resume after a crash).
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    since: datetime | None = None
    # The key of the wcsync process running it (app.sync.runs.liveness): a run whose owner died is
    # settled as failed instead of staying `running` for ever.
    owner: int | None = Field(default=None, sa_type=sa.BigInteger)
    requested_at: datetime = Field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None


class Event(SQLModel, table=True):
    """A line of an order's history: discovered, claimed, created, adopted, failed, retried."""

    __table_args__ = (sa.Index("ix_event_order", "store_id", "order_id"),)

    id: int | None = Field(default=None, primary_key=True)
    link_id: int | None = Field(default=None, foreign_key="link.id", ondelete="CASCADE", index=True)
    store_id: int = Field(foreign_key="store.id", ondelete="CASCADE")
    order_id: int = Field(sa_type=sa.BigInteger)
    run_id: int | None = Field(default=None, foreign_key="run.id", ondelete="SET NULL")
    kind: str = Field(sa_type=sa.String(32))
    message: str = Field(default="", sa_type=sa.Text)
    created_at: datetime = Field(default_factory=utcnow)


class Product(SQLModel, table=True):
    """A target store's catalogue, by SKU: product ids sent to a store come only from here."""

    __table_args__ = (sa.UniqueConstraint("store_id", "sku", name="uq_product_store_sku"),)

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="store.id", ondelete="CASCADE")
    sku: str = Field(sa_type=sa.String(200))
    product_id: int = Field(sa_type=sa.BigInteger)
    variation_id: int = Field(default=0, sa_type=sa.BigInteger)
    name: str = Field(default="", sa_type=sa.String(300))
    fetched_at: datetime = Field(default_factory=utcnow)


class AdminSession(SQLModel, table=True):
    """A dashboard sign-in. The cookie holds a random id; only its SHA-256 is stored, so a copy
    of the database signs no one in. `token_fingerprint` ties the session to the admin token it
    was opened with: when WCSYNC_ADMIN_TOKEN changes, every session ends."""

    __tablename__ = "admin_session"

    id: int | None = Field(default=None, primary_key=True)
    id_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    token_fingerprint: str = Field(sa_type=sa.String(64))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class ApiToken(SQLModel, table=True):
    """A token of the WordPress plugin of one store, scoped to what the plugin does. Only its
    SHA-256 is stored; `hint` (its first characters) lets a person tell tokens apart."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    store_id: int = Field(foreign_key="store.id", ondelete="CASCADE", index=True)
    token_hash: str = Field(sa_type=sa.String(64), unique=True, index=True)
    hint: str = Field(sa_type=sa.String(32))
    label: str = Field(default="", sa_type=sa.String(100))
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime | None = None


class AuthThrottle(SQLModel, table=True):
    """Wrong tokens per client address: in the database so that every wcsync process (uvicorn
    workers, replicas) counts against one limit, and a restart does not reset it."""

    __tablename__ = "auth_throttle"

    client: str = Field(sa_type=sa.String(64), primary_key=True)
    failures: int = 0
    window_started_at: datetime
    blocked_until: datetime | None = None
    lockouts: int = 0
    updated_at: datetime = Field(default_factory=utcnow, index=True)


class WebhookDelivery(SQLModel, table=True):
    """An order change a signed webhook delivery has already been accepted for, so that a replay
    (the same bytes sent again, by WooCommerce or by anyone who saw them) is not applied twice,
    even after a restart or by another process. `change` is the order's `date_modified_gmt`, or
    `deleted` for an `order.deleted` delivery (which carries no date). Kept for a retention
    period, then deleted."""

    __tablename__ = "webhook_delivery"

    store_id: int = Field(foreign_key="store.id", ondelete="CASCADE", primary_key=True)
    order_id: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={"autoincrement": False})
    change: str = Field(sa_type=sa.String(40), primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class WebhookThrottle(SQLModel, table=True):
    """Webhook deliveries with a bad signature per store and client address (the signature is
    the webhook route's only credential, so guessing it is throttled like a token)."""

    __tablename__ = "webhook_throttle"

    store: str = Field(sa_type=sa.String(64), primary_key=True)
    client: str = Field(sa_type=sa.String(64), primary_key=True)
    failures: int = 0
    window_started_at: datetime
    blocked_until: datetime | None = None
    lockouts: int = 0
    updated_at: datetime = Field(default_factory=utcnow, index=True)
