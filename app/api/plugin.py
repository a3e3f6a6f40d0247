"""Routes for the WordPress plugin (a store token may call them, on its own store): the orders of
the store whose copies failed, and where a replica on it came from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from app.api.deps import PrincipalDep, SessionDep, store_token_allowed
from app.api.errors import responses
from app.api.schemas import LinkRead, OrderId, OrderRef, StoreName
from app.errors import OrderNotFound
from app.sync import repository as repo

router = APIRouter(tags=["plugin"])


class FailedOrder(BaseModel):
    order_id: int = Field(description="The order's id on this store.")
    links: list[LinkRead] = Field(description="Its copies parked as failed, with the reason.")


class FailedOrders(BaseModel):
    store: str
    total: int = Field(description="Orders of this store with a copy parked as failed (each counted once).")
    items: list[FailedOrder] = Field(description="Newest failure first, at most `limit`.")


class OriginRead(BaseModel):
    store: str
    order_id: int = Field(description="The replica's id on this store.")
    origin: OrderRef
    admin_url: str = Field(
        description="The origin order's edit screen in its store's WordPress admin (WooCommerce sends "
        "this address on to the HPOS screen when that store uses HPOS)."
    )


def origin_admin_url(base_url: str, order_id: int) -> str:
    return f"{base_url.rstrip('/')}/wp-admin/post.php?post={order_id}&action=edit"


@router.get(
    "/stores/{store}/failed-orders",
    responses=responses(404, s404="No store of that name (`store_not_found`)"),
    openapi_extra=store_token_allowed("its store's failed orders"),
)
async def failed_orders(
    store: StoreName,
    session: SessionDep,
    principal: PrincipalDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FailedOrders:
    """The orders this store holds whose copy failed: its own orders that could not be copied,
    and copies on it that could not be brought up to date. Failures of other stores' orders that
    never reached this store are left out."""
    principal.require_store(store, "list failed orders")
    found = await repo.get_store(session, store)
    assert found.id is not None
    pages, total = await repo.failed_orders_of_store(session, found.id, limit=limit)
    names = await repo.store_names(session)
    return FailedOrders(
        store=store,
        total=total,
        items=[
            FailedOrder(order_id=order_id, links=[LinkRead.of(link, names) for link in links])
            for order_id, links in pages
        ],
    )


@router.get(
    "/orders/{store}/{order_id}/origin",
    responses=responses(
        404, s404="No store of that name (`store_not_found`), or the order is no copy (`order_not_found`)"
    ),
    openapi_extra=store_token_allowed("the origin of its store's replicas"),
)
async def order_origin(
    store: StoreName, order_id: OrderId, session: SessionDep, principal: PrincipalDep
) -> OriginRead:
    """Where a copy on this store came from, with a link to the origin order's admin screen."""
    principal.require_store(store, "read orders")
    found = await repo.get_store(session, store)
    assert found.id is not None
    links = await repo.links_for_target(session, found.id, order_id)
    if not links:
        raise OrderNotFound(store, order_id)
    link = links[0]
    origin = await repo.get_store_by_id(session, link.origin_store_id)
    return OriginRead(
        store=store,
        order_id=order_id,
        origin=OrderRef(store=origin.name, order_id=link.origin_order_id),
        admin_url=origin_admin_url(origin.base_url, link.origin_order_id),
    )
