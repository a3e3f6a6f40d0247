"""Talking to the real stores over their REST API, as a test reads and writes them: orders
placed as a customer's would be, read back whole, and the replicas of an origin found by meta."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.real.harness import StoreInfo
from tests.waiting import PATIENCE

API = "/wp-json/wc/v3"
ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company": "Analytical Engines Ltd",
    "address_1": "1 Analytical St",
    "address_2": "Flat 2",
    "city": "London",
    "state": "",
    "postcode": "N1 9GU",
    "country": "GB",
    "email": "ada@example.test",
    "phone": "+44 20 0000 0001",
}
ADA_SHIPPING = {k: v for k, v in ADA.items() if k != "email"} | {"address_1": "7 Babbage Row"}


def wc_time(moment: datetime) -> str:
    """A WooCommerce filter date: naive UTC (sent with dates_are_gmt=true)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class RealStore:
    """One real store's REST API, with Basic auth: over HTTPS (sub2, nginx + PHP-FPM, the local
    CA trusted), or over loopback http, which the kit's must-use plugin lets WooCommerce accept."""

    def __init__(self, info: StoreInfo, http: httpx.AsyncClient) -> None:
        self.info = info
        self.name = info.name
        self.http = http

    def product_id(self, sku: str) -> int:
        return self.info.products[sku]

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, API + path, **kwargs)
        assert response.status_code < 300, (
            f"{self.name}: {method} {path} -> {response.status_code} {response.text}"
        )
        return response.json()

    async def place_order(
        self,
        items: list[tuple[str, int]],
        *,
        status: str = "processing",
        shipping: str | None = "5.00",
        fees: list[tuple[str, str]] | None = None,
        note: str = "",
        meta: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """An order as a shop's checkout would leave it: lines by product id, addresses,
        payment method, a flat-rate shipping line and optional fees."""
        body: dict[str, Any] = {
            "status": status,
            "payment_method": "bacs",
            "payment_method_title": "Direct bank transfer",
            "billing": ADA,
            "shipping": ADA_SHIPPING,
            "customer_note": note,
            "line_items": [{"product_id": self.product_id(sku), "quantity": qty} for sku, qty in items],
            "shipping_lines": (
                [{"method_id": "flat_rate", "method_title": "Flat rate", "total": shipping}]
                if shipping is not None
                else []
            ),
            "fee_lines": [{"name": name, "total": total, "tax_status": "none"} for name, total in fees or []],
            "meta_data": [{"key": k, "value": v} for k, v in (meta or {}).items()],
        }
        order: dict[str, Any] = await self.request("POST", "/orders", json=body)
        return order

    async def order(self, order_id: int) -> dict[str, Any]:
        order: dict[str, Any] = await self.request("GET", f"/orders/{order_id}")
        return order

    async def update(self, order_id: int, **fields: Any) -> dict[str, Any]:
        order: dict[str, Any] = await self.request("PUT", f"/orders/{order_id}", json=fields)
        return order

    async def refund(self, order_id: int, **fields: Any) -> dict[str, Any]:
        refund: dict[str, Any] = await self.request("POST", f"/orders/{order_id}/refunds", json=fields)
        return refund

    async def refunds(self, order_id: int) -> list[dict[str, Any]]:
        refunds: list[dict[str, Any]] = await self.request("GET", f"/orders/{order_id}/refunds")
        return refunds

    async def replicas(self, origin: str, since: datetime) -> list[dict[str, Any]]:
        """Every order on this store created since `since` whose `_wcsync_origin` is `origin`,
        read whole. WooCommerce has no meta filter, so the recent orders are listed (with
        trash: a replica in the bin still counts)."""
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            batch: list[dict[str, Any]] = await self.request(
                "GET",
                "/orders",
                params={
                    "after": wc_time(since - timedelta(seconds=5)),
                    "dates_are_gmt": "true",
                    "status": "any,trash",
                    "per_page": "100",
                    "page": str(page),
                    "_fields": "id,meta_data",
                },
            )
            for order in batch:
                if any(
                    m.get("key") == "_wcsync_origin" and m.get("value") == origin for m in order["meta_data"]
                ):
                    found.append(await self.order(order["id"]))
            if len(batch) < 100:
                return found
            page += 1

    async def wait_for_replicas(
        self, origin: str, since: datetime, *, count: int = 1, timeout: float = PATIENCE
    ) -> list[dict[str, Any]]:
        """The replicas of `origin`, once there are `count` of them (or what is there at the
        deadline)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            found = await self.replicas(origin, since)
            if len(found) >= count or asyncio.get_running_loop().time() > deadline:
                return found
            await asyncio.sleep(1.0)


@asynccontextmanager
async def open_stores(infos: list[StoreInfo]) -> AsyncIterator[dict[str, RealStore]]:
    clients: list[httpx.AsyncClient] = []
    try:
        stores: dict[str, RealStore] = {}
        for info in infos:
            http = httpx.AsyncClient(
                base_url=info.base_url,
                auth=(info.consumer_key, info.consumer_secret),
                timeout=60,
                verify=info.verify(),
            )
            clients.append(http)
            stores[info.name] = RealStore(info, http)
        yield stores
    finally:
        for http in clients:
            await http.aclose()
