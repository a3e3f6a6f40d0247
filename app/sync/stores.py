"""Store registration and the store check. The domain's own types: the HTTP layer converts its
request and response schemas to and from these."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth.tokens import revoke_store_tokens
from app.db import session_scope
from app.errors import InvalidRequest, MainStoreAlreadyExists, StoreAlreadyExists, StoreCheckFailed
from app.models import AuthMode, Routing, RunKind, Store, StoreRole, SyncMode, utcnow
from app.sync import repository as repo
from app.sync.clients import ClientRegistry
from app.sync.discover.webhooks import webhook_check
from app.sync.orderinfo import order_storage
from app.sync.runs.engine import SyncEngine
from app.sync.storetime import new_orders_floor, store_clock
from app.woocommerce.client import CORE_ORDER_STATUSES, WooCommerceClient
from app.woocommerce.errors import (
    AuthenticationError,
    MalformedResponse,
    RouteNotFoundError,
    WooCommerceError,
)


@dataclass(frozen=True)
class NewStore:
    """A store to add, as an admin described it (validated by whoever took it in)."""

    name: str
    role: StoreRole
    base_url: str
    consumer_key: str
    consumer_secret: str
    auth_mode: AuthMode = AuthMode.auto
    routing: Routing = Routing.all
    enabled: bool = True
    backfill_since: datetime | None = None
    max_concurrency: int | None = None
    full_sync: bool = False

    def __post_init__(self) -> None:
        check_routing(self.role, self.routing)

    def columns(self) -> dict[str, Any]:
        values = asdict(self)
        del values["full_sync"]
        return values


MAIN_ROUTING = (
    "routing 'skus' is for sub-stores (which orders a sub-store fulfils). The main store takes "
    "every sub-store's orders, whatever they hold: use routing 'all' (the default) for it."
)


def check_routing(role: StoreRole | str, routing: Routing | str) -> None:
    """The main store receives every sub-store order: routing it by SKU would silently drop the
    orders of products it does not sell, so it is refused, naming the field."""
    if StoreRole(role) == StoreRole.main and Routing(routing) == Routing.skus:
        raise InvalidRequest(MAIN_ROUTING, field="routing")


@dataclass(frozen=True)
class CheckItem:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class StoreCheck:
    """The store check's verdicts, each in plain words, and the store's measured clock skew."""

    store: str
    ok: bool
    checks: list[CheckItem] = field(default_factory=list)
    clock_skew_seconds: float | None = None


def same_site(a: str, b: str) -> bool:
    """Whether two base URLs name the same store: scheme and host case-insensitive, the path
    without its trailing slash."""

    def norm(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url.strip())
        return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/")

    return norm(a) == norm(b)


async def create_store(session: AsyncSession, data: NewStore) -> Store:
    """Add a store, or bring back the removed store with the same base URL, with its ledger:
    its replicas stay known, so none is made twice."""
    if await repo.find_store(session, data.name) is not None:
        raise StoreAlreadyExists(data.name)
    if data.role == StoreRole.main:
        existing = await repo.main_store(session)
        if existing is not None:
            raise MainStoreAlreadyExists(existing.name)
    values = data.columns()
    archived = await repo.archived_stores(session)
    store = next((a for a in archived if same_site(a.base_url, data.base_url)), None)
    holder = await repo.find_store_any(session, data.name)
    if holder is not None and holder is not store:
        holder.name = f"{holder.name[:40]}~removed-{holder.id}"  # frees the name; its ledger stays
        await session.flush()
    if store is None:
        store = Store(**values)
        session.add(store)
    else:
        if store.role != data.role:
            raise InvalidRequest(
                f"{data.base_url} was the {store.role} store {store.name!r} before it was removed; "
                f"add it back as a {store.role} store (its ledger is kept for that role)."
            )
        for key, value in values.items():
            setattr(store, key, value)
        # Taken again before the next create there: copies may have been made meanwhile.
        store.archived_at, store.inventory_at, store.updated_at = None, None, utcnow()
    await session.flush()
    # The other stores' inventories passed over the copies whose origin is on this store (an
    # origin store the ledger did not know): each is taken again before its next create, so
    # that the copies this store's orders already have there are adopted, never made again.
    for other in (await repo.stores_by_id(session)).values():
        if other.id != store.id:
            other.inventory_at = None
    await session.flush()
    return store


async def connect_store(
    engine: SyncEngine, data: NewStore, *, clients: ClientRegistry | None = None
) -> tuple[Store, int | None]:
    """Add a store in a unit of work of its own, then, when asked, start its first Full sync
    (which must see the store committed). With `clients`, the store check runs first and a
    store that fails it is refused with its verdicts (StoreCheckFailed)."""
    learned: dict[str, object] = {}
    if clients is not None:
        async with session_scope(engine.ctx.session_factory) as session:
            if await repo.find_store(session, data.name) is not None:
                raise StoreAlreadyExists(data.name)
        candidate = Store(**data.columns())
        verdict = await check_store(clients, candidate)
        if not verdict.ok:
            raise StoreCheckFailed(data.name, [asdict(c) for c in verdict.checks])
        # What the check learned about the store is kept, as a check of a saved store would.
        learned = {
            "origin_filter": candidate.origin_filter,
            "clock_skew_seconds": candidate.clock_skew_seconds,
            "last_success_at": candidate.last_success_at,
            "order_storage": candidate.order_storage,
        }
    async with session_scope(engine.ctx.session_factory) as session:
        store = await create_store(session, data)
        for key, value in learned.items():
            setattr(store, key, value)
    await _take_floor(engine, store)
    await learn_storage(engine, store)
    if not data.full_sync:
        return store, None
    run, _ = await engine.request_run(
        kind=RunKind.sync_now,
        direction="both",
        store=store.name,
        mode=SyncMode.full,
        since=data.backfill_since,
    )
    return store, run.id


async def _take_floor(engine: SyncEngine, store: Store) -> None:
    """From now on, on the store's own clock, its orders are new to wcsync (a store brought back
    keeps the floor it had). If the store cannot be read now, its first discovery takes the floor
    from the moment it was added instead."""
    if store.orders_since is not None:
        return
    try:
        skew = await store_clock(engine.ctx, store)
    except WooCommerceError:
        return
    async with session_scope(engine.ctx.session_factory) as session:
        fresh = await repo.get_store_by_id(session, store.id or 0)
        fresh.orders_since = new_orders_floor(fresh, skew)
        store.orders_since = fresh.orders_since


async def _learn_storage(client: WooCommerceClient, store: Store) -> str:
    """Ask the store where it keeps its orders (posts or HPOS), for links to their admin
    screens; a store that will not say keeps what was known."""
    try:
        found = order_storage(await client.system_status(fields=("settings",)))
    except WooCommerceError as exc:
        return f"Could not tell how the store keeps its orders ({exc}); order links use what was known."
    if found is None:
        return "The store did not say how it keeps its orders; order links use what was known."
    store.order_storage = found
    if found == "hpos":
        return "Orders are kept in WooCommerce's order tables (HPOS): links open WooCommerce › Orders."
    return "Orders are kept as posts: links open each order's post edit screen."


async def _statuses_check(client: WooCommerceClient) -> str:
    """Read the store's order statuses again (the cache the sync uses), and name those a plugin
    registers: an order in one is copied only to stores that have it too, or as mapped."""
    client.forget_order_statuses()
    try:
        registered = await client.order_statuses()
    except WooCommerceError as exc:
        return f"Could not read the store's order statuses ({exc}); they are read again before use."
    extra = {slug: label for slug, label in registered.items() if slug not in CORE_ORDER_STATUSES}
    if not extra:
        return "WooCommerce's own order statuses only."
    named = ", ".join(f"{slug} ({label})" if label != slug else slug for slug, label in sorted(extra.items()))
    return (
        f"Order statuses registered by plugins: {named}. An order in one is copied as it is to "
        "stores that have it too; elsewhere as WCSYNC_STATUS_MAP says, or its link fails and says so."
    )


async def learn_storage(engine: SyncEngine, store: Store) -> None:
    """For a store added without the check: one request for its order storage, kept if told."""
    if store.order_storage is not None:
        return
    await _learn_storage(engine.ctx.clients.get(store), store)
    if store.order_storage is None:
        return
    async with session_scope(engine.ctx.session_factory) as session:
        fresh = await repo.get_store_by_id(session, store.id or 0)
        fresh.order_storage = store.order_storage


async def update_store(session: AsyncSession, name: str, changes: Mapping[str, Any]) -> Store:
    """Apply the changes an admin asked for (only the fields given)."""
    store = await repo.get_store(session, name)
    if changes.get("routing") is not None:
        check_routing(store.role, changes["routing"])
    for key, value in changes.items():
        setattr(store, key, value)
    store.updated_at = utcnow()
    await session.flush()
    return store


async def delete_store(session: AsyncSession, name: str) -> None:
    """Remove a store from use. Its ledger is archived, not deleted: adding a store with the same
    base URL again brings it back, so the copies already there are never made twice."""
    store = await repo.get_store(session, name)
    store.archived_at = store.updated_at = utcnow()
    assert store.id is not None
    await revoke_store_tokens(session, store.id)
    await session.flush()


# The store check's verdict when Basic auth is refused but the same key works in the query
# string. The real-store tests look for "Authorization header" and "auth_mode query".
AUTHORIZATION_STRIPPED = (
    "The store refused the key sent by Basic auth, yet accepts the same key in the query string: "
    "the web server strips the Authorization header before WordPress sees it (PHP run over "
    "FastCGI or CGI without HTTP_AUTHORIZATION). Either pass the Authorization header on (nginx: "
    "`fastcgi_param HTTP_AUTHORIZATION $http_authorization;` beside the other fastcgi_params; "
    'Apache: `CGIPassAuth On`, or `SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1`), or '
    "switch this store to auth_mode query (the key then travels in the URL: HTTPS only)."
)


async def check_store(clients: ClientRegistry, store: Store) -> StoreCheck:
    """Reachability, pretty permalinks, credentials, read and write permission, our webhooks, clock skew,
    each with a verdict in plain words. Nothing on the store is changed."""
    client = clients.get(store)
    checks: list[CheckItem] = []
    # The clock is judged on this check's own answers: a store that is down now is not "on time"
    # because it answered an hour ago.
    started = datetime.now(UTC)

    def add(name: str, ok: bool, detail: str) -> None:
        checks.append(CheckItem(name=name, ok=ok, detail=detail))

    try:
        index = await client.site_index()
        namespaces = index.get("namespaces") or []
        plugin = index.get("wcsync_admin")
        store.origin_filter = isinstance(plugin, dict) and plugin.get("origin_filter") is True
        # The plugin shows each replica's origin on its screen: no origin note is written there.
        store.admin_plugin = isinstance(plugin, dict)
        if "wc/v3" in namespaces:
            add("reachable", True, f"{store.base_url} answers and serves the WooCommerce REST API.")
        else:
            add(
                "reachable",
                False,
                "The site answers but WooCommerce's REST API (wc/v3) is not active.",
            )
    except (RouteNotFoundError, MalformedResponse) as exc:
        # No REST index at /wp-json/: plain permalinks, or no WordPress at this address at all.
        add("reachable", False, await _no_rest_index(client, store, exc))
    except WooCommerceError as exc:
        add("reachable", False, f"Cannot reach the store: {exc}")
    if checks[-1].ok:
        try:
            await client.list_orders(per_page=1, fields=("id",))
            add("read", True, "The key can read orders.")
        except AuthenticationError as exc:
            if exc.status == 401 and client.auth_mode == "basic" and await _query_auth_reads(clients, store):
                add("read", False, AUTHORIZATION_STRIPPED)
            else:
                hint = ""
                if store.base_url.startswith("http://") and store.auth_mode in ("basic", "query"):
                    hint = (
                        " Over plain HTTP WooCommerce accepts only OAuth 1.0a: use https or auth_mode oauth1."
                    )
                add("read", False, f"The store refused the credentials: {exc}.{hint}")
        except WooCommerceError as exc:
            add("read", False, f"Listing orders failed: {exc}")
    if checks[-1].ok and checks[-1].name == "read":
        try:
            await client.batch_orders()  # an empty batch: checks write permission, changes nothing
            add("write", True, "The key can create and update orders.")
        except AuthenticationError as exc:
            add(
                "write",
                False,
                f"The key cannot write orders ({exc}); give it Read/Write permission.",
            )
        except WooCommerceError as exc:
            add("write", False, f"Could not check write permission: {exc}")
    if any(c.name == "read" and c.ok for c in checks):
        # The store answered with these credentials: that is a success, whatever the checks
        # below find (a main store with no webhook is still read fine).
        store.last_success_at = utcnow()
        add("order storage", True, await _learn_storage(client, store))
        add("order statuses", True, await _statuses_check(client))
        add("webhooks", *await webhook_check(client, store))
    # Only when WordPress itself answered during this check: a proxy's 503 page has a Date too.
    measured = client.skew(since=started) if checks[0].ok else None
    skew = measured.seconds if measured is not None else None
    if skew is not None:
        ok = abs(skew) < 300
        detail = f"The store's clock is {skew:+.0f} s from ours."
        if not ok:
            detail += " More than 5 minutes: OAuth 1.0a signatures will be refused; fix the server time."
        add("clock", ok, detail)
        store.clock_skew_seconds = skew
    if checks[0].ok:
        add(
            "replica lookup",
            True,
            "The wcsync-admin plugin's wcsync_origin filter is on: a replica is found in one request."
            if store.origin_filter
            else "Replicas are found by listing recent orders (the wcsync-admin plugin's "
            "wcsync_origin filter would make it one request).",
        )
    return StoreCheck(store=store.name, ok=all(c.ok for c in checks), checks=checks, clock_skew_seconds=skew)


async def _no_rest_index(client: WooCommerceClient, store: Store, error: WooCommerceError) -> str:
    """Why /wp-json/ gave no REST index, found by asking for it the way that works whatever the
    permalinks: a WordPress with plain permalinks answers `?rest_route=/`; anything else is not
    WordPress (a typo in the address, a multisite sub-site's path left out, another site)."""
    try:
        index = await client.plain_site_index()
    except WooCommerceError:
        index = None
    if index is not None and isinstance(index.get("namespaces"), list):
        return (
            "This WordPress site's permalinks are Plain: its /wp-json/ addresses are not found, and "
            "WooCommerce accepts API keys only there. Turn on pretty permalinks: Settings > "
            "Permalinks, any structure but Plain (the shop's pages keep working)."
        )
    answer = f"HTTP {error.status}" if error.status else "no answer"
    what = "a page that is not JSON" if isinstance(error, MalformedResponse) else answer
    return (
        f"No WordPress site answers at {store.base_url}: /wp-json/ gave {what}, not WordPress's "
        "REST API, and ?rest_route=/ neither. Check the URL: a typo, or a multisite sub-site's path "
        "left out?"
    )


async def _query_auth_reads(clients: ClientRegistry, store: Store) -> bool:
    """Whether the store reads orders with the same key sent in the query string (Basic auth
    having been refused): then the key is right and the Authorization header is lost on the way."""
    probe = clients.one_off(store, auth_mode="query")
    try:
        await probe.list_orders(per_page=1, fields=("id",))
    except WooCommerceError:
        return False
    finally:
        await probe.aclose()
    return True


async def ledger_restored(session: AsyncSession) -> list[str]:
    """The ledger was restored from a backup: copies made since the backup are on the stores but
    not in it. Forget every store's inventory, so that before the next create to each store
    wcsync lists the copies already there (`_wcsync_origin`) and adopts them instead of making
    them again. Returns the stores' names."""
    stores = list((await repo.stores_by_id(session)).values())
    for store in stores:
        store.inventory_at = None
    await session.flush()
    return sorted(store.name for store in stores)
