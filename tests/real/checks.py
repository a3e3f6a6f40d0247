"""What makes a replica a faithful copy of its origin, checked on orders read back from the real
stores: the project-wide invariant (app/testing/exact.py), the same one the e2e tests apply to
the fake stores. It compares line items by SKU (quantity, subtotal, total, tax class, their
taxes and visible meta), shipping lines and fees with their taxes, the order total, its tax
totals (`total_tax`, `cart_tax`, `shipping_tax`, `discount_tax`) and discount, the refunded
amount, both addresses, the payment method, the customer note, the visible order meta, the
status and the `_wcsync_origin` meta naming the origin. Ids are never compared: every store
numbers its orders, lines and products its own way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.testing.exact import assert_exact_copy


def assert_faithful_copy(
    origin: dict[str, Any], replica: dict[str, Any], *, origin_store: str, status: bool = True
) -> None:
    """Fail, listing every difference, unless `replica` (read from its store) is an exact copy
    of `origin` (placed on `origin_store`). `status=False` leaves the status out."""
    assert_exact_copy(origin, replica, origin_store=origin_store, check_status=status)


def money(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def refunds_of(order: dict[str, Any]) -> list[Decimal]:
    """The refunded amounts an order lists (positive), smallest first."""
    return sorted(-money(r["total"]) for r in order.get("refunds") or [])
