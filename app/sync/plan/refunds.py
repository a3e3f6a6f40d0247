"""Which origin refunds a replica must carry, and for how much. Pure: no I/O.

A refund is copied to a replica by line, with the replica's own line ids: an origin refund of
the T-shirt reaches only the replicas that hold the T-shirt. What an origin refund returns beyond
its lines (an amount-only refund, or the part of a refund above its lines) is split by each
replica's share of the order:

- a full copy (routing `all`, or `skus` with every line sold) takes that part whole, since it
  holds the whole order;
- partial copies (routing `skus`, some lines elsewhere) take `amount x value held / order total`,
  rounded to the replica store's price decimals (`money.split`), so that the parts add up to
  the order's share of the amount exactly;
- no copy is ever refunded more of a line (an item, a shipping line, a fee) than that line holds
  on the copy less what the copy's refunds already took of it: a partial copy carries the
  origin's shipping at 0.00, so an origin's shipping refund is none of its business;
- no copy is ever refunded more than it has left, and when the origin is refunded in full, each
  copy is refunded in full for what it holds.

Amounts are sent at the replica store's decimals (3 for a KWD store, 0 for JPY), never rounded
to cents: a store refuses a refund above its remainder.

Every refund written carries `_wcsync_origin_refund` = "<store>:<order>:<refund>" on the replica,
so a refund already there (made by an attempt whose reply was lost) is never made again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.sync.plan import money
from app.sync.plan.mapping import ORIGIN_REFUND_META, meta_value

ZERO = money.ZERO
# A WooCommerce money string as a positive Decimal (refund totals read back negative).
amount = money.magnitude


@dataclass(frozen=True)
class RefundLine:
    origin_item_id: str  # the origin line refunded: a line item, a shipping line or a fee
    quantity: int  # positive
    total: Decimal  # positive, without tax
    tax: Decimal = ZERO


@dataclass(frozen=True)
class OriginRefund:
    id: int
    amount: Decimal  # positive
    reason: str = ""
    lines: tuple[RefundLine, ...] = ()

    @property
    def lines_total(self) -> Decimal:
        return sum((line.total + line.tax for line in self.lines), ZERO)


@dataclass(frozen=True)
class ReplicaState:
    """A replica as read now: what it holds and what it already carries."""

    lines: Mapping[str, int]  # origin line id -> the replica's line id
    total: Decimal
    refunded: Decimal
    copied: frozenset[int] = frozenset()  # origin refund ids found on the replica's refunds
    full: bool = True
    # origin line id -> what is left to refund of the replica's copy of that line (its total
    # and tax less the replica's refunds of it); None when not known, then a line is not capped
    room: Mapping[str, Decimal] | None = None
    decimals: int = money.DEFAULT_DECIMALS  # the replica store's price decimals


@dataclass(frozen=True)
class RefundWrite:
    origin_refund_id: int
    body: dict[str, Any] = field(default_factory=dict)


def origin_refund_key(store: str, order_id: int, refund_id: int) -> str:
    return f"{store}:{order_id}:{refund_id}"


def parse_origin_refund(refund: Mapping[str, Any]) -> int | None:
    """The origin refund id a replica's refund copies, from its `_wcsync_origin_refund` meta."""
    value = meta_value(refund, ORIGIN_REFUND_META)
    if not isinstance(value, str):
        return None
    tail = value.rpartition(":")[2]
    return int(tail) if tail.isdigit() else None


def origin_refunds(order: Mapping[str, Any], details: Sequence[Mapping[str, Any]] = ()) -> list[OriginRefund]:
    """The origin's refunds, oldest first. Amount and reason come from the order's `refunds[]`,
    which reads true on both storages (the refund endpoints read 0.00 and "" on HPOS, recorded
    v09c); the lines come from the refund endpoint's `details`, linked by `_refunded_item_id`."""
    by_id = {r.get("id"): r for r in details if isinstance(r, Mapping)}
    refunds: list[OriginRefund] = []
    for entry in order.get("refunds") or []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), int):
            continue
        detail = by_id.get(entry["id"]) or {}
        lines: list[RefundLine] = []
        for section in ("line_items", "shipping_lines", "fee_lines"):
            for line in detail.get(section) or []:
                item = meta_value(line, "_refunded_item_id")
                if item is None:
                    continue
                lines.append(
                    RefundLine(
                        origin_item_id=str(item),
                        quantity=abs(int(line.get("quantity") or 0)),
                        total=amount(line.get("total")),
                        tax=amount(line.get("total_tax")),
                    )
                )
        refunds.append(
            OriginRefund(
                id=entry["id"],
                amount=amount(entry.get("total")),
                reason=str(entry.get("reason") or ""),
                lines=tuple(lines),
            )
        )
    return sorted(refunds, key=lambda r: r.id)


def allocate(
    total: Decimal,
    weights: Mapping[str, Decimal],
    whole: Decimal,
    decimals: int = money.DEFAULT_DECIMALS,
) -> dict[str, Decimal]:
    """Split `total x sum(weights) / whole` over the weights at `decimals` places, summing
    exactly (see `money.split`)."""
    return money.split(total, weights, whole, decimals)


def refunds_cover(total: Decimal, refunded: Sequence[Decimal]) -> bool:
    """Whether refunds of these amounts refund an order of `total` fully (WooCommerce's own
    test: the refunds reach the order's total)."""
    return total > 0 and sum(refunded, ZERO) >= total


def plan_refunds(
    refunds: Sequence[OriginRefund],
    replica: ReplicaState,
    *,
    origin_store: str,
    origin_order_id: int,
    origin_total: Decimal,
    name: str = "",
    partial_values: Mapping[str, Decimal] | None = None,
) -> list[RefundWrite]:
    """The refunds to create on replica `name`, oldest first. `partial_values` holds the value of
    the lines each partial copy of the order holds (this one included), by store name: what the
    amount-only parts are split by. A full copy needs none."""
    fully_refunded = refunds_cover(origin_total, [r.amount for r in refunds])
    left = replica.total - replica.refunded
    room = dict(replica.room) if replica.room is not None else None
    decimals = replica.decimals
    writes: list[RefundWrite] = []
    missing = [r for r in refunds if r.id not in replica.copied]
    for refund in missing:
        lines: list[tuple[RefundLine, Decimal]] = []  # each line with the part of it refunded here
        for line in refund.lines:
            if line.origin_item_id not in replica.lines:
                continue
            wanted = line.total + line.tax
            take = wanted if room is None else min(wanted, max(room.get(line.origin_item_id, ZERO), ZERO))
            if take <= 0:
                continue  # the copy holds none of it (a partial copy's 0.00 shipping)
            if room is not None:
                room[line.origin_item_id] -= take
            lines.append((line, take))
        rest = max(refund.amount - refund.lines_total, ZERO)
        if replica.full:
            share = rest
        else:
            share = allocate(rest, partial_values or {name: ZERO}, origin_total, decimals).get(name, ZERO)
        value = sum((take for _, take in lines), ZERO) + share
        if fully_refunded and refund is missing[-1]:
            value = left  # the origin is refunded in full: so is each copy, for what it holds
        value = min(value, left)
        if value <= 0:
            continue
        left -= value
        writes.append(
            RefundWrite(
                origin_refund_id=refund.id,
                body={
                    "amount": money.text(value, decimals),
                    "reason": refund.reason,
                    # No money moves on the replica's store, and its stock is not touched again.
                    "api_refund": False,
                    "api_restock": False,
                    "line_items": [
                        {
                            "id": replica.lines[line.origin_item_id],
                            "quantity": line.quantity,
                            "refund_total": money.text(
                                line.total if take == line.total + line.tax else take, decimals
                            ),
                        }
                        for line, take in lines
                    ],
                    "meta_data": [
                        {
                            "key": ORIGIN_REFUND_META,
                            "value": origin_refund_key(origin_store, origin_order_id, refund.id),
                        }
                    ],
                },
            )
        )
    return writes
