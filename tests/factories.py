"""Typed factories for test data."""

from __future__ import annotations

from typing import Any

from app.models import Routing, Store, StoreRole


def make_order(
    order_id: int = 101,
    *,
    status: str = "processing",
    items: list[tuple[str | None, int, str]] | None = None,
    meta: dict[str, str] | None = None,
    modified: str = "2026-11-22T08:00:00",
    **overrides: Any,
) -> dict[str, Any]:
    """A WooCommerce order as the REST API returns it; items are (sku, quantity, line total)."""
    items = items if items is not None else [("SKU-MUG-001", 2, "19.00")]
    order: dict[str, Any] = {
        "id": order_id,
        "number": str(order_id),
        "status": status,
        "currency": "USD",
        "date_created_gmt": modified,
        "date_modified_gmt": modified,
        "total": "24.00",
        "customer_id": 7,
        "customer_note": "ring twice",
        "billing": {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email": "ada@example.test",
            "country": "GB",
            "phone": "+44",
        },
        "shipping": {"first_name": "Ada", "last_name": "Lovelace", "country": "GB"},
        "payment_method": "bacs",
        "payment_method_title": "Direct bank transfer",
        "transaction_id": "",
        "line_items": [
            {
                "id": 1000 + i,
                "name": f"item {i}",
                "sku": sku,
                "quantity": qty,
                "subtotal": total,
                "total": total,
                "product_id": 50 + i,
            }
            for i, (sku, qty, total) in enumerate(items)
        ],
        "shipping_lines": [{"id": 9, "method_id": "flat_rate", "method_title": "Flat rate", "total": "5.00"}],
        "fee_lines": [],
        "coupon_lines": [],
        "meta_data": [{"id": i, "key": k, "value": v} for i, (k, v) in enumerate((meta or {}).items())],
    }
    order.update(overrides)
    return order


def make_store(
    name: str = "sub1",
    *,
    role: StoreRole = StoreRole.sub,
    base_url: str | None = None,
    routing: Routing = Routing.all,
    **overrides: Any,
) -> Store:
    return Store(
        name=name,
        role=role,
        base_url=base_url or f"https://{name}.store.test",
        consumer_key=f"ck_{name}_key_0123456789",
        consumer_secret=f"cs_{name}_secret_0123456789",
        routing=routing,
        **overrides,
    )
