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
from decimal import Decimal
from fnmatch import fnmatchcase
from typing import Any

from app.errors import InvalidOrderData, MissingSku, UnknownSku
from app.sync.plan import money
from app.woocommerce.amounts import shown_amount

WCSYNC_META_PREFIX = "_wcsync_"
ORIGIN_META = "_wcsync_origin"
ORIGIN_ITEM_META = "_wcsync_origin_item"
ORIGIN_REFUND_META = "_wcsync_origin_refund"
COPIED_KEYS_META = "_wcsync_meta_keys"
LINES_ELSEWHERE_META = "_wcsync_lines_elsewhere"
# A line's meta entry whose key repeats an earlier one on the same line is created under a slot
# key (`_wcsync_slot_<position>`) and renamed by its id right after: WooCommerce keeps one entry
# a key for what a create sends (`update_meta_data`), but renames an entry by id.
SLOT_META_PREFIX = "_wcsync_slot_"

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
_STATUS_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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
    return str(money.require(value, what))


def _address(source: Any, keys: tuple[str, ...], what: str) -> dict[str, str]:
    if source is None:
        source = {}
    if not isinstance(source, Mapping):
        raise InvalidOrderData(f"The {what} address is not an object.")
    return {key: str(source.get(key) or "") for key in keys}


@dataclass(frozen=True)
class MetaFilter:
    """Which of the origin order's own meta keys a replica carries: keys matching `allow` and
    not `deny` (shell-style patterns). A private (underscore) key belongs to the origin store's
    plugins and travels only when an `allow` pattern that itself starts with `_` names it."""

    allow: tuple[str, ...] = ("*",)
    deny: tuple[str, ...] = ()

    @classmethod
    def parse(cls, allow: str, deny: str) -> MetaFilter:
        def split(text: str) -> tuple[str, ...]:
            return tuple(p.strip() for p in text.split(",") if p.strip())

        return cls(allow=split(allow), deny=split(deny))

    def copies(self, key: str) -> bool:
        if key.startswith(WCSYNC_META_PREFIX) or any(fnmatchcase(key, p) for p in self.deny):
            return False
        patterns = [p for p in self.allow if p.startswith("_")] if key.startswith("_") else self.allow
        return any(fnmatchcase(key, p) for p in patterns)


def visible_meta(entries: Any) -> list[dict[str, Any]]:
    """A line's meta a person sees (keys without a leading underscore), as key and value only,
    every entry in order: an add-on may write one key twice on a line (two engravings)."""
    return [
        {"key": entry["key"], "value": entry.get("value")}
        for entry in entries or []
        if isinstance(entry, Mapping)
        and isinstance(entry.get("key"), str)
        and entry["key"]
        and not entry["key"].startswith("_")
    ]


def _line_id(line: Mapping[str, Any]) -> str:
    return str(line.get("id", ""))


def map_order(
    order: Mapping[str, Any],
    *,
    origin_store: str,
    target_store: str,
    catalog: Mapping[str, ProductRef],
    only_sold: bool = False,
    meta_filter: MetaFilter | None = None,
    to_main: bool = False,
) -> MappedOrder:
    """The replica `target_store` should hold, as a create payload. With `only_sold` (routing by
    SKU) the lines the target does not sell are left out and listed; otherwise every SKU must
    resolve. Every line carries `_wcsync_origin_item` naming the origin line it copies, so that a
    later update matches lines on the replica itself, never on ids wcsync remembers.

    A partial replica (lines left out) carries the origin's shipping lines with their method,
    instance and meta but a total of 0.00, and no fee lines: the shipping and the fees were
    charged by the origin store, which keeps them; the replica's total is the value of its lines.
    `to_main` (the target is the main store) gives an unknown SKU the advice of that direction."""
    meta_filter = meta_filter or MetaFilter()
    order_id = order.get("id")
    if not isinstance(order_id, int):
        raise InvalidOrderData("The order has no numeric id.")
    status = order.get("status")
    # A plugin's status too: whether the target has it is decided before (planner.status_for_store).
    if not isinstance(status, str) or not _STATUS_SLUG.match(status) or status == "trash":
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
                "tax_class": str(item.get("tax_class") or ""),
                "meta_data": [
                    *visible_meta(item.get("meta_data")),
                    {"key": ORIGIN_ITEM_META, "value": _line_id(item)},
                ],
            }
        )
    if no_sku and not only_sold:
        raise MissingSku(no_sku)
    if unknown:
        raise UnknownSku(target_store, unknown, origin=origin_store, to_main=to_main)
    if not line_items:
        raise UnknownSku(target_store, left_out or ["(none)"], origin=origin_store, to_main=to_main)
    partial = bool(left_out or no_sku)

    shipping_lines = [
        {
            "method_id": str(line.get("method_id") or "other"),
            "method_title": str(line.get("method_title") or ""),
            "instance_id": str(line.get("instance_id") or ""),
            "total": "0.00" if partial else _money(line.get("total"), "Shipping total"),
            "meta_data": [
                *visible_meta(line.get("meta_data")),
                {"key": ORIGIN_ITEM_META, "value": _line_id(line)},
            ],
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
            "meta_data": [
                *visible_meta(line.get("meta_data")),
                {"key": ORIGIN_ITEM_META, "value": _line_id(line)},
            ],
        }
        for line in ([] if partial else order.get("fee_lines") or [])
        if isinstance(line, Mapping)
    ]
    meta = [
        {"key": ORIGIN_META, "value": origin_key(origin_store, order_id)},
        {"key": "_wcsync_origin_number", "value": str(order.get("number") or order_id)},
        {
            "key": "_wcsync_origin_total",
            "value": shown_amount(order.get("total") or "", money.currency_decimals(order.get("currency"))),
        },
    ]
    if order.get("date_created_gmt"):
        meta.append({"key": "_wcsync_origin_created_gmt", "value": str(order["date_created_gmt"])})
    coupons = [str(c.get("code")) for c in order.get("coupon_lines") or [] if isinstance(c, Mapping)]
    if coupons:
        meta.append({"key": "_wcsync_coupons", "value": ",".join(coupons)})
    if partial:
        meta.append({"key": LINES_ELSEWHERE_META, "value": ",".join(left_out + no_sku)})
    copied: dict[str, Any] = {}
    for entry in order.get("meta_data") or []:
        key = entry.get("key") if isinstance(entry, Mapping) else None
        if isinstance(key, str) and key and meta_filter.copies(key):
            copied.setdefault(key, entry.get("value"))  # one value a key: the first, as get_meta does
    meta += [{"key": key, "value": value} for key, value in copied.items()]
    # The keys copied, on the replica itself: a key the origin drops later is removed from the
    # replica, and nothing else is (the target's own plugins keep theirs).
    meta.append({"key": COPIED_KEYS_META, "value": ",".join(sorted(copied))})

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


def expected_total(mapped: MappedOrder) -> Decimal | None:
    """The total the copy should have: the origin's for a full copy, the value of its lines for a
    partial one (None when the origin's total is unknown)."""
    payload = mapped.payload
    if mapped.left_out_skus:
        return sum((money.magnitude(line["total"]) for line in payload["line_items"]), money.ZERO)
    total = meta_value(payload, "_wcsync_origin_total")
    return money.parse(total) if total not in (None, "") else None


def slot_key(position: int, taken: set[str]) -> str:
    """A slot key for a line's meta entry at `position`, free on the line."""
    key, n = f"{SLOT_META_PREFIX}{position}", 0
    while key in taken:
        n += 1
        key = f"{SLOT_META_PREFIX}{position}_{n}"
    return key


def create_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """The body that creates the replica `payload` describes. WooCommerce keeps one meta entry
    a key of what a create sends for a line (each entry is `update_meta_data(key, value)`: a
    repeated key overwrites the earlier entry), so an entry whose key repeats an earlier one on
    its line goes under a slot key; the planner then renames it by id (`complete_creates`).
    The payload itself when no line repeats a key."""
    changed = False
    sections: dict[str, list[Any]] = {}
    for section in ("line_items", "shipping_lines", "fee_lines"):
        lines: list[Any] = []
        for line in payload.get(section) or []:
            entries = line.get("meta_data") if isinstance(line, Mapping) else None
            if not isinstance(entries, list):
                lines.append(line)
                continue
            seen: set[str] = set()
            taken = {str(e.get("key")) for e in entries if isinstance(e, Mapping)}
            sent: list[Any] = []
            for position, entry in enumerate(entries):
                key = entry.get("key") if isinstance(entry, Mapping) else None
                if isinstance(key, str) and key in seen:
                    slot = slot_key(position, taken)
                    taken.add(slot)
                    sent.append({**entry, "key": slot})
                    changed = True
                else:
                    sent.append(entry)
                    if isinstance(key, str):
                        seen.add(key)
            lines.append({**line, "meta_data": sent})
        sections[section] = lines
    return {**payload, **sections} if changed else payload


def origin_note(origin_store: str, order: Mapping[str, Any]) -> str:
    number = order.get("number") or order.get("id")
    return f"Replicated by wcsync from order #{number} on store {origin_store!r}."
