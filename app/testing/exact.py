"""The invariant every test that makes or changes a replica checks: the replica is the origin's
order, line for line and cent for cent.

Written apart from wcsync's planner on purpose (it compares by SKU and content, never by the
`_wcsync_origin_item` marks the planner matches on), so that a planner bug cannot hide itself.
Used by the test suite against fake and real stores, and by `bench/chaos.py`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

__all__ = ["assert_exact_copy", "copy_differences", "expected_status"]

ADDRESS_KEYS = {
    "billing": (
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
    ),
    "shipping": (
        "first_name",
        "last_name",
        "company",
        "address_1",
        "address_2",
        "city",
        "state",
        "postcode",
        "country",
        "phone",
    ),
}
ORDER_FIELDS = ("currency", "payment_method", "payment_method_title", "transaction_id", "customer_note")
# What the store computes from the lines: equal on a full copy when the tax settings are.
ORDER_AMOUNTS = ("total_tax", "cart_tax", "shipping_tax", "discount_total", "discount_tax")


def _money(value: Any) -> Decimal:
    """Exactly, at whatever places the store writes (3 for KWD, none for JPY): never to the cent."""
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        return Decimal("NaN")


def _taxes(line: Mapping[str, Any]) -> tuple[tuple[Decimal, Decimal], ...]:
    """A line's tax per rate, as sorted (total, subtotal) amounts in cents: rate ids are each
    store's own, and 7.8 shows an item's tax as the stored float (``"2.225"``) where 10.6 formats
    it (``"2.23"``), half up as WooCommerce does."""

    def cents(value: Any) -> Decimal:
        try:
            amount = Decimal(str(value if value not in (None, "") else "0"))
            return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return Decimal("NaN")

    entries = [t for t in line.get("taxes") or [] if isinstance(t, Mapping)]
    return tuple(sorted((cents(t.get("total")), cents(t.get("subtotal"))) for t in entries))


def _meta_value(obj: Mapping[str, Any], key: str) -> Any:
    for entry in obj.get("meta_data") or []:
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def _visible(obj: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A line's meta a person sees, as (key, value) pairs in order, a repeated key included,
    with values as WooCommerce stores them (strings)."""
    pairs = []
    for entry in obj.get("meta_data") or []:
        key = entry.get("key") if isinstance(entry, Mapping) else None
        if isinstance(key, str) and key and not key.startswith("_"):
            value = entry.get("value")
            pairs.append((key, value if isinstance(value, str) else repr(value)))
    return tuple(pairs)


def _order_meta(obj: Mapping[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in _visible(obj):
        found.setdefault(key, value)
    return found


def expected_status(origin: Mapping[str, Any]) -> str:
    status = str(origin.get("status"))
    return "cancelled" if status == "trash" else status


def _item(line: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        line.get("sku"),
        bool(line.get("variation_id")),
        int(line.get("quantity") or 0),
        _money(line.get("subtotal")),
        _money(line.get("total")),
        str(line.get("tax_class") or ""),
        _money(line.get("subtotal_tax")),
        _money(line.get("total_tax")),
        _taxes(line),
        _visible(line),
    )


def _shipping(line: Mapping[str, Any], *, zero: bool = False) -> tuple[Any, ...]:
    return (
        str(line.get("method_id") or ""),
        str(line.get("method_title") or ""),
        str(line.get("instance_id") or ""),
        Decimal("0.00") if zero else _money(line.get("total")),
        Decimal("0.00") if zero else _money(line.get("total_tax")),
        () if zero else _taxes(line),
        _visible(line),
    )


def _fee(line: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        str(line.get("name") or ""),
        _money(line.get("total")),
        str(line.get("tax_status") or ""),
        str(line.get("tax_class") or ""),
        _money(line.get("total_tax")),
        _taxes(line),
        _visible(line),
    )


def _compare(what: str, want: list[tuple[Any, ...]], have: list[tuple[Any, ...]]) -> list[str]:
    missing, extra = Counter(want) - Counter(have), Counter(have) - Counter(want)
    problems = [f"{what}: missing on the replica {line}" for line in missing.elements()]
    problems += [f"{what}: on the replica but not the origin {line}" for line in extra.elements()]
    return problems


def copy_differences(
    origin: Mapping[str, Any],
    replica: Mapping[str, Any],
    *,
    origin_store: str,
    sold: Collection[str] | None = None,
    check_status: bool = True,
) -> list[str]:
    """Every way `replica` differs from `origin`, in words; [] when it is an exact copy.
    `sold` is the SKUs the replica's store sells when it routes by SKU: the replica then holds
    only those lines (a partial copy: its shipping lines at 0.00, no fees, its total the value of
    its lines); None means a full copy."""
    problems: list[str] = []
    mark = _meta_value(replica, "_wcsync_origin")
    if mark != f"{origin_store}:{origin.get('id')}":
        problems.append(f"_wcsync_origin is {mark!r}, not '{origin_store}:{origin.get('id')}'")
    items = [i for i in origin.get("line_items") or [] if isinstance(i, Mapping)]
    held = [i for i in items if sold is None or i.get("sku") in sold]
    partial = len(held) < len(items)
    problems += _compare(
        "line", [_item(i) for i in held], [_item(i) for i in replica.get("line_items") or []]
    )
    problems += _compare(
        "shipping line",
        [_shipping(s, zero=partial) for s in origin.get("shipping_lines") or []],
        [_shipping(s) for s in replica.get("shipping_lines") or []],
    )
    problems += _compare(
        "fee line",
        [] if partial else [_fee(f) for f in origin.get("fee_lines") or []],
        [_fee(f) for f in replica.get("fee_lines") or []],
    )
    for name in ORDER_FIELDS:
        if str(origin.get(name) or "") != str(replica.get(name) or ""):
            problems.append(f"{name}: origin {origin.get(name)!r}, replica {replica.get(name)!r}")
    if bool(origin.get("prices_include_tax")) != bool(replica.get("prices_include_tax")):
        problems.append(
            f"prices_include_tax: origin {origin.get('prices_include_tax')!r}, "
            f"replica {replica.get('prices_include_tax')!r}"
        )
    for section, keys in ADDRESS_KEYS.items():
        want, have = origin.get(section) or {}, replica.get(section) or {}
        for key in keys:
            if str(want.get(key) or "") != str(have.get(key) or ""):
                problems.append(f"{section}.{key}: origin {want.get(key)!r}, replica {have.get(key)!r}")
    want_meta, have_meta = _order_meta(origin), _order_meta(replica)
    if want_meta != have_meta:
        problems.append(f"order meta: origin {want_meta}, replica {have_meta}")
    total = (
        sum((_money(i.get("total")) for i in held), Decimal(0)) if partial else _money(origin.get("total"))
    )
    if _money(replica.get("total")) != total:
        problems.append(f"total: expected {total}, replica {replica.get('total')}")
    for name in () if partial else ORDER_AMOUNTS:
        if _money(origin.get(name)) != _money(replica.get(name)):
            problems.append(f"{name}: origin {origin.get(name)}, replica {replica.get(name)}")
    refunded = sum((_money(r.get("total")).copy_abs() for r in replica.get("refunds") or []), Decimal(0))
    origin_refunded = sum(
        (_money(r.get("total")).copy_abs() for r in origin.get("refunds") or []), Decimal(0)
    )
    if not partial and refunded != origin_refunded:
        problems.append(f"refunded: origin {origin_refunded}, replica {refunded}")
    if partial and refunded > total:
        problems.append(f"refunded {refunded} is more than the replica's total {total}")
    if partial and origin_refunded >= _money(origin.get("total")) > 0 and refunded != total:
        problems.append(f"the origin is refunded in full, the replica only {refunded} of {total}")
    status = expected_status(origin)
    if partial and total > 0 and refunded >= total:
        status = "refunded"  # every line this copy holds was refunded
    if check_status and replica.get("status") != status:
        problems.append(f"status: expected {status!r}, replica {replica.get('status')!r}")
    return problems


def assert_exact_copy(
    origin: Mapping[str, Any],
    replica: Mapping[str, Any],
    *,
    origin_store: str,
    sold: Collection[str] | None = None,
    check_status: bool = True,
) -> None:
    """Fail with every difference listed unless `replica` is an exact copy of `origin`."""
    problems = copy_differences(
        origin, replica, origin_store=origin_store, sold=sold, check_status=check_status
    )
    if problems:
        what = f"replica {replica.get('id')} is not an exact copy of {origin_store} order {origin.get('id')}"
        raise AssertionError(what + ":\n  " + "\n  ".join(problems))
