"""Mapping an origin order to a target store's payload. Pure: no I/O, tested on its own.

Products are matched by SKU and sent as the target's own product ids, which come only from a
verified catalogue lookup: real WooCommerce accepts an unknown product id or SKU with 201 and
writes an empty 0.00 line (recorded cases 15 and 16). Line totals are sent as they are on the
origin; coupons are not re-applied (their codes go into meta); the customer is a guest copy.
Batches skip WooCommerce's schema validation (recorded case 23), so everything a batch would
silently coerce is validated here first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.errors import InvalidOrderData, MissingSku, UnknownSku

ORIGIN_META = "_wcsync_origin"
ORIGIN_ITEM_META = "_wcsync_origin_item"

CORE_STATUSES = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed"}
)
BILLING_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
    "email",
    "phone",
)
SHIPPING_KEYS = BILLING_KEYS[:-2] + ("phone",)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class ProductRef:
    product_id: int
    variation_id: int = 0


@dataclass
class MappedOrder:
    payload: dict[str, Any]
    left_out_skus: list[str] = field(default_factory=list)


def origin_key(store: str, order_id: int) -> str:
    return f"{store}:{order_id}"


def meta_value(order: Mapping[str, Any], key: str) -> Any:
    for entry in order.get("meta_data") or []:
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def parse_origin(order: Mapping[str, Any]) -> tuple[str, int] | None:
    """The (store, order id) an order is a replica of, from its `_wcsync_origin` meta."""
    value = meta_value(order, ORIGIN_META)
    if not isinstance(value, str) or ":" not in value:
        return None
    store, _, order_id = value.rpartition(":")
    if not store or not order_id.isdigit():
        return None
    return store, int(order_id)


def _money(value: Any, what: str) -> str:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation as exc:
        raise InvalidOrderData(f"{what} is not an amount: {value!r}.") from exc
    if not amount.is_finite():
        raise InvalidOrderData(f"{what} is not an amount: {value!r}.")
    return str(amount)


def _address(source: Any, keys: tuple[str, ...], what: str) -> dict[str, str]:
    if source is None:
        source = {}
    if not isinstance(source, Mapping):
        raise InvalidOrderData(f"The {what} address is not an object.")
    return {key: str(source.get(key) or "") for key in keys}


def map_order(
    order: Mapping[str, Any],
    *,
    origin_store: str,
    target_store: str,
    catalog: Mapping[str, ProductRef],
    only_sold: bool = False,
) -> MappedOrder:
    """The create payload for `target_store`. With `only_sold` (routing by SKU) the lines the
    target does not sell are left out and listed; otherwise every SKU must resolve."""
    order_id = order.get("id")
    if not isinstance(order_id, int):
        raise InvalidOrderData("The order has no numeric id.")
    status = order.get("status")
    if status not in CORE_STATUSES:
        raise InvalidOrderData(f"Order status {status!r} is not a status wcsync replicates.")
    currency = order.get("currency") or ""
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        raise InvalidOrderData(f"Currency {currency!r} is not a three-letter code.")
    billing = _address(order.get("billing"), BILLING_KEYS, "billing")
    if billing["email"] and not _EMAIL.match(billing["email"]):
        raise InvalidOrderData(f"Billing email {billing['email']!r} is not a valid address.")
    shipping = _address(order.get("shipping"), SHIPPING_KEYS, "shipping")

    raw_items = order.get("line_items")
    if not isinstance(raw_items, list) or not raw_items:
        raise InvalidOrderData("The order has no line items.")
    no_sku: list[str] = []
    unknown: list[str] = []
    left_out: list[str] = []
    line_items: list[dict[str, Any]] = []
    for item in raw_items:
        if not isinstance(item, Mapping):
            raise InvalidOrderData("A line item is not an object.")
        name = str(item.get("name") or f"item {item.get('id')}")
        sku = item.get("sku")
        if not sku:
            no_sku.append(name)
            continue
        ref = catalog.get(str(sku))
        if ref is None:
            (left_out if only_sold else unknown).append(str(sku))
            continue
        quantity = item.get("quantity")
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            raise InvalidOrderData(f"Line {name!r} has quantity {quantity!r}.")
        line_items.append(
            {
                "product_id": ref.product_id,
                "variation_id": ref.variation_id,
                "quantity": quantity,
                "subtotal": _money(item.get("subtotal"), f"Subtotal of {name!r}"),
                "total": _money(item.get("total"), f"Total of {name!r}"),
                "meta_data": [{"key": ORIGIN_ITEM_META, "value": str(item.get("id", ""))}],
            }
        )
    if no_sku and not only_sold:
        raise MissingSku(no_sku)
    if unknown:
        raise UnknownSku(target_store, unknown)
    if not line_items:
        raise UnknownSku(target_store, left_out or ["(none)"])

    shipping_lines = [
        {
            "method_id": str(line.get("method_id") or "other"),
            "method_title": str(line.get("method_title") or ""),
            "total": _money(line.get("total"), "Shipping total"),
        }
        for line in order.get("shipping_lines") or []
        if isinstance(line, Mapping)
    ]
    fee_lines = [
        {
            "name": str(line.get("name") or "Fee"),
            "total": _money(line.get("total"), "Fee total"),
            "tax_status": "taxable" if line.get("tax_status") == "taxable" else "none",
            "tax_class": str(line.get("tax_class") or ""),
        }
        for line in order.get("fee_lines") or []
        if isinstance(line, Mapping)
    ]
    meta = [
        {"key": ORIGIN_META, "value": origin_key(origin_store, order_id)},
        {"key": "_wcsync_origin_number", "value": str(order.get("number") or order_id)},
        {"key": "_wcsync_origin_total", "value": str(order.get("total") or "")},
    ]
    if order.get("date_created_gmt"):
        meta.append({"key": "_wcsync_origin_created_gmt", "value": str(order["date_created_gmt"])})
    coupons = [str(c.get("code")) for c in order.get("coupon_lines") or [] if isinstance(c, Mapping)]
    if coupons:
        meta.append({"key": "_wcsync_coupons", "value": ",".join(coupons)})
    if left_out or no_sku:
        meta.append({"key": "_wcsync_lines_elsewhere", "value": ",".join(left_out + no_sku)})
    # The origin's public custom fields travel with the order; protected (underscore) keys
    # belong to the origin store's plugins and stay there.
    for entry in order.get("meta_data") or []:
        key = entry.get("key") if isinstance(entry, Mapping) else None
        if isinstance(key, str) and key and not key.startswith("_"):
            meta.append({"key": key, "value": entry.get("value")})

    payload: dict[str, Any] = {
        "status": status,
        "currency": currency,
        "customer_id": 0,
        "billing": billing,
        "shipping": shipping,
        "payment_method": str(order.get("payment_method") or ""),
        "payment_method_title": str(order.get("payment_method_title") or ""),
        "transaction_id": str(order.get("transaction_id") or ""),
        "customer_note": str(order.get("customer_note") or ""),
        "set_paid": False,
        "line_items": line_items,
        "shipping_lines": shipping_lines,
        "fee_lines": fee_lines,
        "meta_data": meta,
    }
    return MappedOrder(payload=payload, left_out_skus=left_out + no_sku)


def origin_note(origin_store: str, order: Mapping[str, Any]) -> str:
    number = order.get("number") or order.get("id")
    return f"Replicated by wcsync from order #{number} on store {origin_store!r}."
