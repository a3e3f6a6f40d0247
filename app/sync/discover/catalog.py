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
            await _refresh(ctx, store)
        async with session_scope(ctx.session_factory) as session:
            rows = await repo.products_for_store(session, store.id)
        products = {p.sku: ProductRef(p.product_id, p.variation_id) for p in rows}
        ctx.catalogs[store.id] = (now, products)
        return products


async def _refresh(ctx: SyncContext, store: Store) -> None:
    assert store.id is not None
    client: WooCommerceClient = ctx.clients.get(store)
    found: list[tuple[str, int, int, str]] = []
    async for page in client.iter_products():
        for product in page:
            sku, ref = product.get("sku"), _ref(product)
            if sku and ref is not None:
                found.append((str(sku), ref.product_id, ref.variation_id, str(product.get("name") or "")))
    async with session_scope(ctx.session_factory) as session:
        await repo.replace_products(session, store.id, found)
        fresh = await session.get(type(store), store.id)
        if fresh is not None:
            fresh.catalog_refreshed_at = utcnow()
    log.info("sync.catalog.refreshed %s", kv(store=store.name, products=len(found)))


async def look_up_skus(ctx: SyncContext, store: Store, skus: Iterable[str]) -> dict[str, ProductRef]:
    """Ask the store for SKUs the cached catalogue lacks (a product added since the last
    refresh, or a variation, which the product listing does not include)."""
    assert store.id is not None
    async with ctx.catalog_locks[store.id]:
        return await _look_up(ctx, store, skus)


async def _look_up(ctx: SyncContext, store: Store, skus: Iterable[str]) -> dict[str, ProductRef]:
    assert store.id is not None
    client = ctx.clients.get(store)
    found: dict[str, ProductRef] = {}
    for sku in sorted(set(skus)):
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
