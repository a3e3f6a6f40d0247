"""What makes a replica a faithful copy of its origin, checked on orders read back from the real
stores. One place for the comparison, so that it can later give way to the project-wide
invariant.

Compared: line items by SKU (quantity, subtotal, total), shipping lines (method, title, total),
fees (name, total), the order total, both addresses, the payment method, the status, the
currency and the `_wcsync_origin` meta naming the origin. Ids are not compared: every store
numbers its orders, lines and products its own way.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal
from typing import Any

ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "company",
    "address_1",
    "address_2",
    "city",
    "state",
    "postcode",
    "country",
)


def money(value: Any) -> Decimal:
    return Decimal(str(value or "0"))


def meta(order: dict[str, Any], key: str) -> Any:
    for entry in order.get("meta_data") or []:
        if entry.get("key") == key:
            return entry.get("value")
    return None


def lines_by_sku(order: dict[str, Any]) -> Counter[tuple[str, int, Decimal, Decimal]]:
    return Counter(
        (str(i.get("sku") or ""), int(i["quantity"]), money(i["subtotal"]), money(i["total"]))
        for i in order.get("line_items") or []
    )


def shipping_lines(order: dict[str, Any]) -> Counter[tuple[str, str, Decimal]]:
    return Counter(
        (str(s.get("method_id")), str(s.get("method_title")), money(s.get("total")))
        for s in order.get("shipping_lines") or []
    )


def fee_lines(order: dict[str, Any]) -> Counter[tuple[str, Decimal]]:
    return Counter((str(f.get("name")), money(f.get("total"))) for f in order.get("fee_lines") or [])


def differences(
    origin: dict[str, Any], replica: dict[str, Any], *, origin_store: str, status: bool = True
) -> list[str]:
    """How `replica` differs from `origin` (placed on `origin_store`), in words; [] when it is a
    faithful copy. `status=False` leaves the status out (a test that changes it on purpose)."""
    found: list[str] = []

    def compare(what: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            found.append(f"{what}: origin {theirs!r}, replica {ours!r}")

    compare("_wcsync_origin", meta(replica, "_wcsync_origin"), f"{origin_store}:{origin['id']}")
    compare("line items (sku, qty, subtotal, total)", lines_by_sku(replica), lines_by_sku(origin))
    compare("shipping lines", shipping_lines(replica), shipping_lines(origin))
    compare("fees", fee_lines(replica), fee_lines(origin))
    compare("total", money(replica.get("total")), money(origin.get("total")))
    compare("currency", replica.get("currency"), origin.get("currency"))
    for kind in ("billing", "shipping"):
        keys = ADDRESS_KEYS + (("email", "phone") if kind == "billing" else ("phone",))
        compare(
            kind,
            {k: (replica.get(kind) or {}).get(k, "") for k in keys},
            {k: (origin.get(kind) or {}).get(k, "") for k in keys},
        )
    compare(
        "payment method",
        (replica.get("payment_method"), replica.get("payment_method_title")),
        (origin.get("payment_method"), origin.get("payment_method_title")),
    )
    compare("customer note", replica.get("customer_note"), origin.get("customer_note"))
    if status:
        compare("status", replica.get("status"), origin.get("status"))
    return found


def assert_faithful_copy(
    origin: dict[str, Any], replica: dict[str, Any], *, origin_store: str, status: bool = True
) -> None:
    problems = differences(origin, replica, origin_store=origin_store, status=status)
    assert not problems, f"replica #{replica.get('id')} of {origin_store}:{origin['id']}:\n  " + "\n  ".join(
        problems
    )


def refunds_of(order: dict[str, Any]) -> list[Decimal]:
    """The refunded amounts an order lists (positive), oldest first."""
    return sorted((-money(r["total"]) for r in order.get("refunds") or []), reverse=False)
