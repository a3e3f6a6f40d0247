"""Finishing a create that WooCommerce cannot take whole in one request.

A create keeps one meta entry a key on a line (each entry is `update_meta_data(key, value)`),
so a line whose visible meta repeats a key (an add-on's two "Engraving" entries) is created
with the later entries under slot keys (`mapping.create_payload`) and finished at once by one
update that renames them by id, planned like any other update: from the copy as the create
returned it. Only creates that used a slot are planned again; a copy that could not be finished
is said so, and its link is queued again (the next pass plans the same rename)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.sync.context import kv, log
from app.sync.plan.mapping import create_payload
from app.sync.plan.planner import ReplicaMismatch, plan_update
from app.woocommerce.client import BatchItemResult, WooCommerceClient
from app.woocommerce.errors import WooCommerceError


def creates_to_finish(
    created: Sequence[BatchItemResult], payloads: Sequence[dict[str, Any]]
) -> list[tuple[int, dict[str, Any]]]:
    """(position, update body) for each created copy that a slot left unequal to its payload."""
    out: list[tuple[int, dict[str, Any]]] = []
    for position, (item, payload) in enumerate(zip(created, payloads, strict=True)):
        if item.order is None or create_payload(payload) is payload:
            continue
        try:
            changes = plan_update(payload, item.order, status=None)
        except ReplicaMismatch:
            continue
        if changes:
            out.append((position, changes))
    return out


async def complete_creates(
    client: WooCommerceClient,
    created: Sequence[BatchItemResult],
    payloads: Sequence[dict[str, Any]],
    *,
    store: str,
) -> set[int]:
    """Send the finishing update of each copy that needs one, in one batch, and put the copy
    it returns in place of the created one. Returns the positions still unfinished."""
    wanted = creates_to_finish(created, payloads)
    if not wanted:
        return set()
    bodies = [{"id": (created[position].order or {}).get("id"), **changes} for position, changes in wanted]
    try:
        result = await client.batch_orders(update=bodies)
    except WooCommerceError as exc:
        log.warning("sync.create.unfinished %s", kv(store=store, orders=len(bodies), error=exc))
        return {position for position, _ in wanted}
    unfinished: set[int] = set()
    for (position, _), item in zip(wanted, result.update, strict=True):
        if item.order is not None:
            created[position].order = item.order
        else:
            unfinished.add(position)
            log.warning("sync.create.unfinished %s", kv(store=store, error=item.error))
    return unfinished
