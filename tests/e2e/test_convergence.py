"""Property: whatever happens to the orders and the stores, once the faults stop wcsync converges,
and then every routed order has exactly one replica on each of its targets, each an exact copy.

Hypothesis draws sequences of origin orders (on the main store and on a sub-store), edits made in
wp-admin, status changes on either side, refunds (by amount, by line, in full), faults (5xx, 429,
timeouts, lost replies after a create or an update, refused refunds) and passes, some of them
killed half-way (the process "crashes": its task is cancelled and a new one starts on the same
database). The stores are in-process fakes; wcsync is the real app on the real migrations.

`make test` draws a few sequences; set WCSYNC_PROPERTY_EXAMPLES for a longer search."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from app.models import RunKind
from app.testing import FakeStore
from app.testing.exact import assert_exact_copy
from tests.e2e.support import add_in_process, in_process, make_fake
from tests.waiting import PATIENCE

EXAMPLES = int(os.environ.get("WCSYNC_PROPERTY_EXAMPLES", "6"))
SKUS = ("SKU-TSHIRT-RED", "SKU-MUG-001", "SKU-HOODIE-L", "SKU-STICKER")
PARTIAL_SKUS = {"SKU-MUG-001", "SKU-STICKER"}  # what sub2 sells: it routes by SKU
TARGETS = ("sub1", "sub2")
FAULTS = ("5xx", "429", "timeout", "drop_after_create", "drop_after_write", "refund_refused")

items = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(1, 3)), min_size=1, max_size=3, unique_by=lambda t: t[0]
)
step = st.one_of(
    st.tuples(st.just("order"), st.sampled_from(("main", "sub1")), items),
    st.tuples(
        st.just("edit"),
        st.integers(0, 9),
        st.sampled_from(("quantity", "add", "remove", "shipping", "fee", "address", "meta")),
    ),
    st.tuples(st.just("status"), st.integers(0, 9), st.sampled_from(("completed", "on-hold", "processing"))),
    st.tuples(st.just("refund"), st.integers(0, 9), st.sampled_from(("amount", "line", "full"))),
    st.tuples(
        st.just("replica_status"),
        st.integers(0, 9),
        st.sampled_from(TARGETS),
        st.sampled_from(("completed", "on-hold")),
    ),
    st.tuples(st.just("fault"), st.sampled_from(("main", *TARGETS)), st.sampled_from(FAULTS)),
    st.tuples(st.just("pass"), st.booleans(), st.floats(0.0, 0.08)),
)


@dataclass
class World:
    fakes: dict[str, FakeStore]
    orders: list[tuple[str, int]] = field(default_factory=list)  # (origin store, order id)
    refunded: set[tuple[str, int]] = field(default_factory=set)


def fakes() -> dict[str, FakeStore]:
    stores = {"main": make_fake("main"), "sub1": make_fake("sub1"), "sub2": make_fake("sub2", PARTIAL_SKUS)}
    for fake in stores.values():
        fake.knobs.hang_seconds = 0.6  # a timeout fault outlasts the client's 0.4 s
    return stores


def service(database_url: str, world: World) -> Any:
    return in_process(
        database_url,
        world.fakes,
        store_timeout_seconds=0.4,
        backoff_base_seconds=0.05,
        backoff_max_seconds=0.2,
    )


async def connect(api: httpx.AsyncClient, world: World) -> None:
    for name, role, routing in (("main", "main", "all"), ("sub1", "sub", "all"), ("sub2", "sub", "skus")):
        await add_in_process(
            api, world.fakes[name], role=role, routing=routing, backfill_since="2020-01-01T00:00:00Z"
        )


def replicas_of(world: World, store: str, order_id: int) -> dict[str, list[dict[str, Any]]]:
    key = f"{store}:{order_id}"
    targets = ("main",) if store != "main" else TARGETS
    return {t: world.fakes[t].find_by_meta("_wcsync_origin", key) for t in targets}


async def apply_step(world: World, app: Any, drawn: tuple[Any, ...]) -> bool:
    """Play one drawn step; returns True when the pass was killed half-way (restart needed)."""
    kind = drawn[0]
    if kind == "order":
        _, store, lines = drawn
        order = world.fakes[store].place_order(list(lines))
        world.orders.append((store, order["id"]))
        return False
    if kind == "fault":
        world.fakes[drawn[1]].fail_next(drawn[2])
        return False
    if kind == "pass":
        _, crash, delay = drawn
        engine = app.state.engine
        run, _ = await engine.request_run(kind=RunKind.sync_now)
        if not crash:
            await engine.wait(run.id, timeout=PATIENCE)
            return False
        await asyncio.sleep(delay)
        task = engine._tasks.get(run.id)
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return True
        return False
    if not world.orders:
        return False
    store, order_id = world.orders[drawn[1] % len(world.orders)]
    fake = world.fakes[store]
    order = fake.orders[order_id]
    if kind == "edit":
        if (store, order_id) in world.refunded or order["status"] == "refunded":
            return False  # shops do not edit the lines of a refunded order
        first = order["line_items"][0]
        edit = drawn[2]
        if edit == "quantity":
            qty = first["quantity"] + 1
            unit = float(first["subtotal"]) / first["quantity"]
            fake.update_order_direct(
                order_id,
                line_items=[
                    {
                        "id": first["id"],
                        "quantity": qty,
                        "subtotal": f"{unit * qty:.2f}",
                        "total": f"{unit * qty:.2f}",
                    }
                ],
            )
        elif edit == "add":
            have = {line["sku"] for line in order["line_items"]}
            extra = next((sku for sku in SKUS if sku not in have), None)
            if extra is not None:
                fake.update_order_direct(order_id, line_items=[{"sku": extra, "quantity": 1}])
        elif edit == "remove" and len(order["line_items"]) > 1:
            fake.update_order_direct(order_id, line_items=[{"id": first["id"], "quantity": 0}])
        elif edit == "shipping" and order["shipping_lines"]:
            fake.update_order_direct(
                order_id, shipping_lines=[{"id": order["shipping_lines"][0]["id"], "total": "7.25"}]
            )
        elif edit == "fee":
            fake.update_order_direct(
                order_id, fee_lines=[{"name": "Gift wrap", "total": "1.50", "tax_status": "none"}]
            )
        elif edit == "address":
            fake.update_order_direct(order_id, billing={"city": "Lyon"}, shipping={"city": "Lyon"})
        elif edit == "meta":
            fake.update_order_direct(order_id, meta={"delivery_slot": f"slot-{len(order['meta_data'])}"})
        return False
    if kind == "status":
        if order["status"] != "refunded":
            fake.update_order_direct(order_id, status=drawn[2])
        return False
    if kind == "replica_status":
        copies = world.fakes[drawn[2] if store == "main" else "main"].find_by_meta(
            "_wcsync_origin", f"{store}:{order_id}"
        )
        if copies and copies[0]["status"] not in ("refunded", "trash"):
            world.fakes[drawn[2] if store == "main" else "main"].update_order_direct(
                copies[0]["id"], status=drawn[3]
            )
        return False
    if kind == "refund":
        refunded = sum(float(r["total"]) for r in order["refunds"]) * -1
        left = round(float(order["total"]) - refunded, 2)
        if left <= 0:
            return False
        how = drawn[2]
        body: dict[str, Any] = {"api_refund": False, "reason": f"refund {how}"}
        if how == "full":
            body["amount"] = f"{left:.2f}"
        elif how == "line":
            line = order["line_items"][-1]
            value = min(float(line["total"]), left)
            body["amount"] = f"{value:.2f}"
            body["line_items"] = [{"id": line["id"], "quantity": 1, "refund_total": f"{value:.2f}"}]
        else:
            body["amount"] = f"{min(3.0, left):.2f}"
        fake.state.create_refund(order_id, body)  # in wp-admin: the faults are wcsync's
        world.refunded.add((store, order_id))
    return False


async def converge(api: httpx.AsyncClient) -> None:
    """Passes until a pass changes nothing and nothing waits; creates whose outcome is unknown
    are settled once their request can no longer be running (the 0.4 s timeout)."""
    for _ in range(12):
        run = (await api.post("/api/sync?wait=true")).json()
        pending = (await api.get("/api/pending")).json()
        counts = run["counts"]
        quiet = counts["created"] == 0 and counts["updated"] == 0
        if run["status"] == "succeeded" and quiet and pending["total"] == 0 and pending["failed"] == 0:
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"no convergence: last run {run}, pending {pending}")


def check(world: World) -> None:
    for store, order_id in world.orders:
        origin = world.fakes[store].orders[order_id]
        found = replicas_of(world, store, order_id)
        if origin["status"] not in ("processing", "on-hold", "completed") and not any(found.values()):
            continue  # left a replicated status before wcsync first read it: it waits, by design
        for target, copies in found.items():
            routed = target != "sub2" or any(line["sku"] in PARTIAL_SKUS for line in origin["line_items"])
            if not routed:
                assert copies == [], (store, order_id, target)
                continue
            assert len(copies) == 1, (store, order_id, target, [c["id"] for c in copies])
            sold = PARTIAL_SKUS if target == "sub2" else None
            assert_exact_copy(origin, copies[0], origin_store=store, sold=sold)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=os.environ.get("WCSYNC_PROPERTY_SEED") is None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
)
@given(steps=st.lists(step, min_size=3, max_size=14))
@pytest.mark.slow
async def test_any_history_converges_to_exact_copies(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[Any, ...]]
) -> None:
    world = World(fakes=fakes())
    url = database_url
    if url.startswith("sqlite"):  # a fresh database per example; PostgreSQL's is emptied below
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('prop') / 'wcsync.db'}"
    else:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(
                text("TRUNCATE store, link, run, event, source_order, cursor, product CASCADE")
            )
        await engine.dispose()
    first = True
    remaining = list(steps)
    while True:
        async with service(url, world) as (app, api):
            if first:
                await connect(api, world)
                first = False
            crashed = False
            while remaining and not crashed:
                crashed = await apply_step(world, app, remaining.pop(0))
            if crashed:
                continue  # the process died: a new one starts on the same database
            for fake in world.fakes.values():
                fake.clear_faults()
            await asyncio.sleep(0.5)
            await converge(api)
            break
    check(world)
    for fake in world.fakes.values():
        await fake.aclose()
