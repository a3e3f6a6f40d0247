"""``/__fake__/``: the control API for driving a served fake store from another process.

No WooCommerce auth, loopback clients only.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, Field

from app.testing.errors import WPError
from app.testing.knobs import FaultKind

if TYPE_CHECKING:
    from app.testing.store import FakeStore

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


def require_loopback(request: Request) -> None:
    client = request.client
    if client is not None and client.host not in LOOPBACK_HOSTS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the control API answers loopback only")


class FailNext(BaseModel):
    kind: FaultKind
    count: int = Field(default=1, ge=1)


class OrderLine(BaseModel):
    sku: str
    quantity: int = Field(default=1, ge=1)


class PlaceOrder(BaseModel):
    items: list[OrderLine | tuple[str, int]]
    status: str = "processing"
    billing: dict[str, str] | None = None
    customer_note: str = ""
    meta: dict[str, str] | None = None
    shipping_total: str = "5.00"


class NewProduct(BaseModel):
    sku: str | None
    name: str
    price: str
    stock: int | None = None


def control_router(store: FakeStore) -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_loopback)])

    @router.get("/knobs")
    async def get_knobs() -> dict[str, Any]:
        return store.knobs.to_dict()

    @router.put("/knobs")
    async def put_knobs(changes: dict[str, Any]) -> dict[str, Any]:
        try:
            store.knobs.update(changes)
        except KeyError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, f"unknown knob {exc}") from None
        except TypeError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None
        if "seed" in changes:
            store.reseed()
        store.wake_limiter()
        return store.knobs.to_dict()

    @router.post("/fail_next")
    async def fail_next(body: FailNext) -> dict[str, Any]:
        store.fail_next(body.kind, body.count)
        return {"pending": store.pending_faults}

    @router.delete("/fail_next")
    async def clear_faults() -> dict[str, Any]:
        store.clear_faults()
        return {"pending": store.pending_faults}

    @router.post("/orders", status_code=status.HTTP_201_CREATED)
    async def place_order(body: PlaceOrder) -> dict[str, Any]:
        items = [
            (line.sku, line.quantity) if isinstance(line, OrderLine) else (line[0], line[1])
            for line in body.items
        ]
        try:
            return store.place_order(
                items,
                status=body.status,
                billing=body.billing,
                customer_note=body.customer_note,
                meta=body.meta,
                shipping_total=body.shipping_total,
            )
        except KeyError as exc:
            raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None

    @router.get("/orders")
    async def list_orders(meta_key: str | None = None, meta_value: str | None = None) -> list[dict[str, Any]]:
        if meta_key is not None:
            return store.find_by_meta(meta_key, meta_value)
        return list(store.orders.values())

    @router.patch("/orders/{order_id}")
    async def update_order(order_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        try:
            return store.update_order_direct(order_id, **changes)
        except KeyError:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no order {order_id}") from None

    @router.post("/orders/{order_id}/refunds", status_code=status.HTTP_201_CREATED)
    async def refund_order(order_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A refund made in wp-admin (no money moves): the faults are for the REST clients."""
        try:
            refund = store.state.create_refund(order_id, {**body, "api_refund": False})
        except WPError as error:
            raise HTTPException(status.HTTP_409_CONFLICT, f"{error.code}: {error.message}") from None
        return store.state.refund_view(refund)

    @router.post("/products", status_code=status.HTTP_201_CREATED)
    async def add_product(body: NewProduct) -> dict[str, Any]:
        try:
            return store.add_product(body.sku, body.name, body.price, stock=body.stock)
        except ValueError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None

    @router.get("/stats")
    async def get_stats() -> dict[str, Any]:
        return store.stats.to_dict()

    @router.get("/emails")
    async def get_emails() -> list[dict[str, Any]]:
        return store.emails

    @router.get("/webhook_deliveries")
    async def get_deliveries() -> list[dict[str, Any]]:
        return [asdict(d) for d in store.webhook_deliveries]

    @router.post("/reset", status_code=status.HTTP_204_NO_CONTENT)
    async def reset() -> None:
        store.reset()

    return router
