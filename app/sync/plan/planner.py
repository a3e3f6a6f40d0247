"""The smallest write that makes a replica equal its origin. Pure: no I/O, no memory.

`plan_update(desired, replica)` compares the replica wcsync should hold (`desired`, the payload
`mapping.map_order` builds from the origin as it is now) with the replica as its store returned
it a moment ago, and returns the body of one order update, or `{}` when they are already equal.
Nothing wcsync remembers goes in: lines are matched by the `_wcsync_origin_item` meta each replica
line carries, so an adopted replica, or an update whose reply was lost and is sent again, is
planned exactly like any other. Applied, a plan makes the replica equal; planned again on the
result, it is empty.

How WooCommerce takes the writes (recorded in tests/woocommerce/recorded/):
- a line sent with its `id` is updated in place; without one it is added (v08a, v08b);
- a line item with an integer `quantity` of 0, a shipping line with `method_id: null` and a fee
  line with `name: null` are removed (`remove_item`);
- a quantity alone does not reprice a line (22c), so totals are sent whenever they differ;
- a meta entry with an `id` and a `null` value is deleted; with an `id` an entry is updated in
  place, its key too; without an `id` the first entry with that key is updated and every other
  entry with that key deleted, or one is added (`WC_Data::update_meta_data`, the same on 7.8
  posts, 7.8 HPOS and 10.6 HPOS, measured in tests/real/test_money.py).

A line's visible meta is copied entry by entry, in order, a repeated key included (an add-on's
two "Engraving" entries): entries are paired by position and rewritten by id, so a key can
repeat; an entry added where its key is already on the line goes under a slot key
(`mapping.SLOT_META_PREFIX`) and is renamed by id in the next write.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.errors import StatusNotOnStore
from app.sync.plan import money
from app.sync.plan.mapping import (
    COPIED_KEYS_META,
    ORIGIN_ITEM_META,
    ORIGIN_META,
    SLOT_META_PREFIX,
    WCSYNC_META_PREFIX,
    meta_value,
    slot_key,
)

ADDRESS_FIELDS = ("billing", "shipping")
SCALAR_FIELDS = ("currency", "payment_method", "payment_method_title", "transaction_id", "customer_note")


class ReplicaMismatch(ValueError):
    """The order read as the replica names another origin: it must never be written."""


_money = money.comparable


def _same_money(desired: Any, shown: Any) -> bool:
    """An amount as its store shows it: rounded to the places the store writes (its price
    decimals), so that 1.235 sent to a store set to 2 decimals, which reads back "1.24", is
    not written again on every pass."""
    want, have = money.comparable(desired), money.comparable(shown)
    if want.is_nan() or have.is_nan():
        return False
    if want == have:
        return True
    places = len(str(shown).strip().partition(".")[2]) if isinstance(shown, str) else None
    return places is not None and money.rounded(want, places) == have


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return -1


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def same_value(a: Any, b: Any) -> bool:
    """Meta values as WooCommerce keeps them: scalars are stored as strings (5 reads back as
    "5", True as "1"), arrays and objects compare by content."""

    def norm(value: Any) -> Any:
        if isinstance(value, bool):
            return "1" if value else ""
        if isinstance(value, (int, float, Decimal)):
            return str(value)
        if isinstance(value, (list, dict)):
            return json.dumps(value, sort_keys=True, default=str)
        return _text(value)

    return bool(norm(a) == norm(b))


@dataclass(frozen=True)
class Section:
    """How one kind of order line is compared, paired and removed."""

    name: str
    fields: tuple[tuple[str, Callable[[Any], Any]], ...]
    # A replica line with no origin mark (made by an older wcsync, or by hand) is paired with a
    # desired line that has the same value here before it is given up and removed.
    pair_key: Callable[[Mapping[str, Any]], Any]
    removal: dict[str, Any]


SECTIONS = (
    Section(
        "line_items",
        (
            ("product_id", _int),
            ("variation_id", _int),
            ("quantity", _int),
            ("subtotal", _money),
            ("total", _money),
            ("tax_class", _text),
        ),
        lambda line: (_int(line.get("product_id")), _int(line.get("variation_id"))),
        {"quantity": 0},
    ),
    Section(
        "shipping_lines",
        (("method_id", _text), ("method_title", _text), ("instance_id", _text), ("total", _money)),
        lambda line: _text(line.get("method_id")),
        {"method_id": None},
    ),
    Section(
        "fee_lines",
        (("name", _text), ("total", _money), ("tax_status", _text), ("tax_class", _text)),
        lambda line: _text(line.get("name")),
        {"name": None},
    ),
)


def _entries(line: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = line.get("meta_data") or []
    return [m for m in entries if isinstance(m, Mapping) and isinstance(m.get("key"), str)]


def _meta_writes(
    desired: Sequence[Mapping[str, Any]],
    current: Sequence[Mapping[str, Any]],
    removable: Callable[[str], bool],
) -> list[dict[str, Any]]:
    """The meta entries to send so that `current` holds `desired` (one value a key), and loses
    the keys `removable` says it must not keep."""
    wanted: dict[str, Any] = {}
    for entry in desired:
        wanted.setdefault(entry["key"], entry.get("value"))
    by_key: dict[str, list[Mapping[str, Any]]] = {}
    for entry in current:
        by_key.setdefault(entry["key"], []).append(entry)
    writes: list[dict[str, Any]] = []
    for key, value in wanted.items():
        have = by_key.get(key, [])
        if len(have) == 1 and same_value(have[0].get("value"), value):
            continue
        if not have:
            writes.append({"key": key, "value": value})
            continue
        writes.append({"id": have[0].get("id"), "key": key, "value": value})
        writes += [{"id": extra.get("id"), "key": key, "value": None} for extra in have[1:]]
    for key, have in by_key.items():
        if key not in wanted and removable(key):
            writes += [{"id": entry.get("id"), "key": key, "value": None} for entry in have]
    return writes


def _visible(key: str) -> bool:
    return not key.startswith("_")


def _line_meta_writes(
    desired: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The meta entries to send so that a replica line holds the visible entries of `desired`,
    every one in order (a key may repeat), and wcsync's own private ones; the target's private
    entries (stock bookkeeping, its plugins') are left alone."""
    want = [(str(e["key"]), e.get("value")) for e in desired if _visible(e["key"])]
    have = [e for e in current if _visible(e["key"]) or e["key"].startswith(SLOT_META_PREFIX)]
    writes: list[dict[str, Any]] = []
    same = len(want) == len(have) and all(
        key == entry["key"] and same_value(entry.get("value"), value)
        for (key, value), entry in zip(want, have, strict=True)
    )
    if not same:
        # By position and by id: an entry rewritten by id keeps its place, whatever its key.
        for (key, value), entry in zip(want, have, strict=False):
            if key != entry["key"] or not same_value(entry.get("value"), value):
                writes.append({"id": entry.get("id"), "key": key, "value": value})
        writes += [{"id": e.get("id"), "key": e["key"], "value": None} for e in have[len(want) :]]
        # Added without an id, an entry would overwrite one with its key: such goes under a slot.
        present = {key for key, _ in want[: len(have)]}
        taken = {str(e["key"]) for e in current} | present
        for position, (key, value) in enumerate(want[len(have) :], start=len(have)):
            if key in present:
                key = slot_key(position, taken)
                taken.add(key)
            present.add(key)
            writes.append({"key": key, "value": value})
    private = [e for e in desired if not _visible(e["key"])]
    writes += _meta_writes(private, current, lambda key: key == ORIGIN_ITEM_META)
    return writes


def _plan_section(
    section: Section, desired: Sequence[Mapping[str, Any]], replica: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    wanted = {str(meta_value(line, ORIGIN_ITEM_META)): line for line in desired}
    matched: dict[str, Mapping[str, Any]] = {}
    unmarked: list[Mapping[str, Any]] = []
    removals: list[Mapping[str, Any]] = []
    for line in replica:
        mark = meta_value(line, ORIGIN_ITEM_META)
        if mark is None:
            unmarked.append(line)
        elif str(mark) in wanted and str(mark) not in matched:
            matched[str(mark)] = line
        else:
            removals.append(line)  # copies a line the origin no longer has, or a second copy
    for mark, line in wanted.items():
        if mark in matched:
            continue
        partner = next((u for u in unmarked if section.pair_key(u) == section.pair_key(line)), None)
        if partner is not None:
            unmarked.remove(partner)
            matched[mark] = partner
    removals += unmarked

    writes: list[dict[str, Any]] = [
        {"id": line.get("id"), **section.removal} for line in removals if isinstance(line.get("id"), int)
    ]
    for mark, line in wanted.items():
        have = matched.get(mark)
        if have is None:
            writes.append(dict(line))
            continue
        change: dict[str, Any] = {}
        for name, norm in section.fields:
            if name not in line:
                continue
            if norm is _money:
                if not _same_money(line[name], have.get(name)):
                    change[name] = line[name]
            elif norm(line[name]) != norm(have.get(name)):
                change[name] = line[name]
        if section.name == "line_items" and ("product_id" in change or "variation_id" in change):
            # A product change relinks the line; both ids go together, and the totals too,
            # since an update never reprices a line.
            change.update({k: line[k] for k in ("product_id", "variation_id", "subtotal", "total")})
        meta = _line_meta_writes(_entries(line), _entries(have))
        if meta:
            change["meta_data"] = meta
        if change:
            writes.append({"id": have.get("id"), **change})
    return writes


def _order_meta_removable(replica: Mapping[str, Any]) -> Callable[[str], bool]:
    copied = {k for k in _text(meta_value(replica, COPIED_KEYS_META)).split(",") if k}
    return lambda key: key.startswith(WCSYNC_META_PREFIX) or key in copied


def plan_update(
    desired: Mapping[str, Any], replica: Mapping[str, Any], *, status: str | None
) -> dict[str, Any]:
    """The update body that makes `replica` equal `desired`, or `{}` when it already is.
    `status` is the status the replica must have, or None to leave its status alone."""
    origin = meta_value(desired, ORIGIN_META)
    found = meta_value(replica, ORIGIN_META)
    if found is not None and not same_value(found, origin):
        raise ReplicaMismatch(f"order {replica.get('id')} is a replica of {found}, not of {origin}")
    changes: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        if name in desired and _text(desired[name]) != _text(replica.get(name)):
            changes[name] = desired[name]
    for name in ADDRESS_FIELDS:
        want, have = desired.get(name) or {}, replica.get(name) or {}
        if any(_text(value) != _text(have.get(key)) for key, value in want.items()):
            changes[name] = dict(want)
    for section in SECTIONS:
        writes = _plan_section(section, desired.get(section.name) or [], replica.get(section.name) or [])
        if writes:
            changes[section.name] = writes
    meta = _meta_writes(_entries(desired), _entries(replica), _order_meta_removable(replica))
    if meta:
        changes["meta_data"] = meta
    if status is not None and status != replica.get("status"):
        changes["status"] = status
    return changes


# WooCommerce's own order statuses: every store has them, whatever it was told of its plugins.
CORE_STATUSES = frozenset(
    {"pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "checkout-draft"}
)


def status_for_store(
    status: str,
    *,
    store: str,
    registered: Collection[str] | None,
    status_map: Mapping[tuple[str | None, str], str],
) -> str:
    """The status to write on `store` for an order in `status`: the same where the store
    registers it (`registered`: its statuses as read from it, None when unknown, which counts
    as WooCommerce's own only); else what WCSYNC_STATUS_MAP says for that store, then for every
    store, if the store has that one. Otherwise StatusNotOnStore: WooCommerce would turn an
    unknown status into `pending` inside a batch, so it is never sent."""
    have = CORE_STATUSES if registered is None else frozenset(registered) | {"trash"}
    if status in have:
        return status
    for key in ((store, status), (None, status)):
        mapped = status_map.get(key)
        if mapped is not None and mapped in have:
            return mapped
    raise StatusNotOnStore(store, status)
