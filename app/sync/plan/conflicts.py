"""Which side changed: what a replica read on its store means for its origin (a status set
there goes back), and which change wins when both sides changed. Pure functions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

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


_AMOUNT = re.compile(r"-?\d+\.\d+")


def _as_read(value: Any) -> Any:
    """A read's content with amounts compared by value: an order read at six places (`dp=6`)
    and the same order in a write's reply (at the store's two) hold "19.000000" and "19.00"."""
    if isinstance(value, str) and _AMOUNT.fullmatch(value):
        return Decimal(value)
    if isinstance(value, list):
        return [_as_read(v) for v in value]
    if isinstance(value, dict):
        return {k: _as_read(v) for k, v in value.items()}
    return value


def same_version(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two reads of an order hold the same content; needed because two changes within
    one second share a `date_modified_gmt`."""
    return all(_as_read(a.get(key)) == _as_read(b.get(key)) for key in VERSION_KEYS)
