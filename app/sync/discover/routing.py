"""Which stores an origin order goes to. Pure: the inputs are the order and the targets."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.models import Routing


@dataclass(frozen=True)
class Target:
    name: str
    routing: Routing
    skus: frozenset[str] = frozenset()


def order_skus(order: Mapping[str, Any]) -> list[str]:
    return [str(item["sku"]) for item in order.get("line_items") or [] if item.get("sku")]


def route_order(order: Mapping[str, Any], targets: Iterable[Target]) -> list[str]:
    """Names of the targets that must receive this order: `all` takes every order, `skus`
    those with at least one line item whose SKU the target sells."""
    skus = set(order_skus(order))
    chosen: list[str] = []
    for target in targets:
        if target.routing == Routing.all or (target.routing == Routing.skus and skus & target.skus):
            chosen.append(target.name)
    return chosen
