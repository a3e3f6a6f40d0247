"""After the first copy: what an origin change means for a replica, and what a replica change
means for its origin. Pure functions of their inputs, tested on their own."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.sync.plan.mapping import ORIGIN_ITEM_META, meta_value

CONTENT_KEYS = (
    "billing",
    "shipping",
    "customer_note",
    "payment_method",
    "payment_method_title",
    "transaction_id",
    "line_items",
    "shipping_lines",
    "fee_lines",
    "meta_data",
)


def desired_status(origin_status: str) -> str:
    """Trashing an origin order cancels its replicas; it never deletes them."""
    return "cancelled" if origin_status == "trash" else origin_status


def content_hash(payload: Mapping[str, Any]) -> str:
    """A fingerprint of everything but the status that a replica mirrors."""
    content = {key: payload.get(key) for key in CONTENT_KEYS}
    raw = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def lines_of(replica: Mapping[str, Any]) -> dict[str, Any]:
    """The replica's own line ids, keyed by the origin line they mirror."""
    items = {}
    for item in replica.get("line_items") or []:
        origin_item = meta_value(item, ORIGIN_ITEM_META)
        if origin_item is not None and isinstance(item.get("id"), int):
            items[str(origin_item)] = item["id"]
    return {
        "items": items,
        "shipping": [s["id"] for s in replica.get("shipping_lines") or [] if isinstance(s.get("id"), int)],
        "fees": [f["id"] for f in replica.get("fee_lines") or [] if isinstance(f.get("id"), int)],
    }


def _line_updates(desired: Sequence[Mapping[str, Any]], known: Mapping[str, int]) -> list[dict[str, Any]]:
    updates: list[dict[str, Any]] = []
    wanted: set[str] = set()
    for item in desired:
        origin_item = str(meta_value(item, ORIGIN_ITEM_META))
        wanted.add(origin_item)
        if origin_item in known:
            # Quantity alone does not reprice a line (recorded case 22c): totals go with it.
            updates.append(
                {
                    "id": known[origin_item],
                    "product_id": item["product_id"],
                    "variation_id": item["variation_id"],
                    "quantity": item["quantity"],
                    "subtotal": item["subtotal"],
                    "total": item["total"],
                }
            )
        else:
            updates.append(dict(item))
    # An integer 0 quantity deletes a line (recorded case 22a).
    updates += [{"id": rid, "quantity": 0} for oid, rid in known.items() if oid not in wanted]
    return updates


@dataclass
class UpdatePlan:
    changes: dict[str, Any] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    content_hash: str = ""

    @property
    def empty(self) -> bool:
        return not self.changes and not self.refunds


def plan_update(
    payload: Mapping[str, Any],
    *,
    origin: Mapping[str, Any],
    replica_status: str | None,
    pushed_content_hash: str | None,
    target_lines: Mapping[str, Any] | None,
    refunds_done: Mapping[str, Any] | None,
) -> UpdatePlan:
    """What to send so that the replica matches the origin again: the status when it differs
    from what the replica holds, the content when it changed since the last push, and every
    origin refund not yet mirrored."""
    plan = UpdatePlan(content_hash=content_hash(payload))
    status = desired_status(str(origin.get("status")))
    if plan.content_hash != pushed_content_hash:
        lines = target_lines or {}
        for key in (
            "billing",
            "shipping",
            "customer_note",
            "payment_method",
            "payment_method_title",
            "transaction_id",
            "meta_data",
        ):
            plan.changes[key] = payload.get(key)
        plan.changes["line_items"] = _line_updates(payload.get("line_items") or [], lines.get("items") or {})
        shipping = [{"id": sid, "method_id": None} for sid in lines.get("shipping") or []]
        plan.changes["shipping_lines"] = shipping + list(payload.get("shipping_lines") or [])
        fees = [{"id": fid, "name": None} for fid in lines.get("fees") or []]
        plan.changes["fee_lines"] = fees + list(payload.get("fee_lines") or [])
    done = refunds_done or {}
    for refund in origin.get("refunds") or []:
        refund_id = str(refund.get("id"))
        if refund_id in done:
            continue
        amount = abs(Decimal(str(refund.get("total") or "0")))
        if amount == 0:
            continue
        plan.refunds.append(
            {
                "origin_refund_id": refund_id,
                "body": {
                    "amount": str(amount),
                    "reason": str(refund.get("reason") or ""),
                    # No money moves on the replica's store, and its stock is not touched again.
                    "api_refund": False,
                    "api_restock": False,
                },
            }
        )
    # Setting `refunded` makes WooCommerce refund whatever is left by itself
    # (wc_order_fully_refunded), which would collide with the refunds mirrored here; mirroring
    # them flips a fully refunded replica to `refunded` anyway.
    if status != replica_status and not (status == "refunded" and plan.refunds):
        plan.changes["status"] = status
    return plan


class ReplicaChange(StrEnum):
    known = "known"  # wcsync's own write, or a version already seen
    seen = "seen"  # changed, but not its status: the origin owns the content
    status_changed = "status_changed"  # its status changed: it goes back to the origin


def replica_change(
    *, status: str, modified: datetime, known_status: str | None, known_modified: datetime | None
) -> ReplicaChange:
    """Classify a replica read on its own store against what wcsync last wrote or saw there."""
    # Dates have whole seconds: a version in the same second as ours is ours only if it holds
    # what we wrote.
    if known_modified is not None and (
        modified < known_modified or (modified == known_modified and status == known_status)
    ):
        return ReplicaChange.known
    if status == known_status or status in ("trash", "checkout-draft"):
        return ReplicaChange.seen
    return ReplicaChange.status_changed


def replica_is_later(*, origin_changed_at: datetime, replica_changed_at: datetime) -> bool:
    """Both sides changed since the last sync: the later change wins. Both times are on
    wcsync's clock (each store's measured skew taken off), so wrong store clocks compare fairly;
    a tie goes to the origin, which owns the order."""
    return replica_changed_at > origin_changed_at


VERSION_KEYS = (
    "status",
    "billing",
    "shipping",
    "customer_note",
    "line_items",
    "shipping_lines",
    "fee_lines",
    "refunds",
    "meta_data",
)


def same_version(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two reads of an order hold the same content; needed because two changes within
    one second share a `date_modified_gmt`."""
    return all(a.get(key) == b.get(key) for key in VERSION_KEYS)
