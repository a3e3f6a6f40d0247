"""A target store's products by SKU. Product ids sent to a store come only from here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from app.db import session_scope
from app.models import Store, utcnow
from app.sync import repository as repo
from app.sync.context import SyncContext, kv, log
from app.sync.plan.mapping import ProductRef
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import WooCommerceError


def _ref(product: dict[str, object]) -> ProductRef | None:
    pid = product.get("id")
    if not isinstance(pid, int):
        return None
    parent = product.get("parent_id")
    if product.get("type") == "variation" and isinstance(parent, int) and parent:
        return ProductRef(product_id=parent, variation_id=pid)
    return ProductRef(product_id=pid)


async def catalog(ctx: SyncContext, store: Store, *, refresh: bool = False) -> dict[str, ProductRef]:
    """The store's SKU -> product map, read again from the store when older than the TTL."""
    assert store.id is not None
    now = utcnow()
    ttl = timedelta(seconds=ctx.settings.catalog_ttl_seconds)
    cached = ctx.catalogs.get(store.id)
    if cached is not None and not refresh and now - cached[0] < ttl:
        return cached[1]
    async with ctx.catalog_locks[store.id]:
        cached = ctx.catalogs.get(store.id)
        if cached is not None and not refresh and utcnow() - cached[0] < ttl:
            return cached[1]  # another worker refreshed it while this one waited
        async with session_scope(ctx.session_factory) as session:
            fresh = await session.get(type(store), store.id)
            refreshed_at = fresh.catalog_refreshed_at if fresh else None
        if refresh or refreshed_at is None or now - refreshed_at >= ttl:
            try:
                await _refresh(ctx, store)
            except WooCommerceError as exc:
                if refreshed_at is None:
                    raise  # never read: routing by it would be a guess
                # A store that is down keeps the catalogue last read: routing stays decided.
                log.warning("sync.catalog.stale %s", kv(store=store.name, error=exc))
        async with session_scope(ctx.session_factory) as session:
            rows = await repo.products_for_store(session, store.id)
        products = {p.sku: ProductRef(p.product_id, p.variation_id) for p in rows}
        ctx.catalogs[store.id] = (now, products)
        return products


async def _refresh(ctx: SyncContext, store: Store) -> None:
    """Read the whole catalogue: every product by SKU, and the variations of each variable
    product (the listing never includes them, recorded v04b), one request per variable product."""
    assert store.id is not None
    client: WooCommerceClient = ctx.clients.get(store)
    found: list[tuple[str, int, int, str]] = []
    variable: list[int] = []
    async for page in client.iter_products():
        for product in page:
            sku, ref = product.get("sku"), _ref(product)
            if sku and ref is not None:
                found.append((str(sku), ref.product_id, ref.variation_id, str(product.get("name") or "")))
            if product.get("type") == "variable" and product.get("variations") and ref is not None:
                variable.append(ref.product_id)
    for parent in variable:
        for variation in await client.product_variations(parent):
            sku, vid = variation.get("sku"), variation.get("id")
            if sku and isinstance(vid, int):
                found.append((str(sku), parent, vid, str(variation.get("name") or "")))
    async with session_scope(ctx.session_factory) as session:
        await repo.replace_products(session, store.id, found)
        fresh = await session.get(type(store), store.id)
        if fresh is not None:
            fresh.catalog_refreshed_at = utcnow()
    log.info("sync.catalog.refreshed %s", kv(store=store.name, products=len(found), variable=len(variable)))


async def look_up_skus(ctx: SyncContext, store: Store, skus: Iterable[str]) -> dict[str, ProductRef]:
    """Ask the store for SKUs the cached catalogue lacks (a product or variation added since the
    last refresh), a hundred SKUs a request."""
    assert store.id is not None
    async with ctx.catalog_locks[store.id]:
        return await _look_up(ctx, store, skus)


async def _look_up(ctx: SyncContext, store: Store, skus: Iterable[str]) -> dict[str, ProductRef]:
    assert store.id is not None
    client = ctx.clients.get(store)
    wanted = sorted(set(skus))
    found: dict[str, ProductRef] = {}
    plain = [sku for sku in wanted if "," not in sku]
    for start in range(0, len(plain), 100):
        for product in await client.products_by_skus(plain[start : start + 100]):
            ref, sku = _ref(product), product.get("sku")
            if ref is not None and isinstance(sku, str) and sku in wanted:
                found.setdefault(sku, ref)
    for sku in (s for s in wanted if "," in s):
        for product in await client.products_by_sku(sku):
            ref = _ref(product)
            if product.get("sku") == sku and ref is not None:
                found[sku] = ref
                break
    if found:
        async with session_scope(ctx.session_factory) as session:
            for sku, ref in found.items():
                await repo.upsert_product(session, store.id, sku, ref.product_id, ref.variation_id, "")
        cached = ctx.catalogs.get(store.id)
        if cached is not None:
            cached[1].update(found)
    return found
