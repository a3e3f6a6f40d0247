"""Real-store benchmark: wcsync's replicas per second against the stores' measured capacity.

Uses real WooCommerce stores on loopback built by the realwc kit (`realwc.sh setup/start`; its
`stores.json` names them: the first is the main store, the others sub-stores). Three steps:

1. **Capacity.** The best way to write orders to these stores that docs/woocommerce-performance.md
   found: batches of 50, two clients per store, every sub-store at once (they share the host). The
   orders it wrote are deleted afterwards. That rate, orders a second over the sub-stores, is the
   most any replicator could get from this host.
2. **wcsync.** `--orders` orders placed on the main store (through the API, not timed), then one
   Sync Now pass main -> sub with wcsync's defaults (SQLite in a temporary directory): replicas a
   second, and that rate over the capacity. Every replica is checked (one per main order and
   sub-store, by `_wcsync_origin`). Then an idle pass in both directions, timed.
3. Everything the run created on the stores is deleted (force), so the stores can be used again.

    /work/shared/realwc/realwc.sh start --dir /tmp/h5-stores
    .venv/bin/python bench/real.py --stores /tmp/h5-stores/stores.json --orders 100

Exit status: 0 measured and verified, 1 a check failed, 2 could not measure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.api.schemas import StoreCreate  # noqa: E402
from app.config import Settings  # noqa: E402
from app.db import session_scope  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import RunKind  # noqa: E402
from app.sync import stores as store_service  # noqa: E402
from app.sync.runs.engine import SyncEngine  # noqa: E402
from bench.replicate import BenchError, code_version  # noqa: E402

SKUS = ("SKU-TSHIRT-RED", "SKU-MUG-001", "SKU-TSHIRT-BLUE", "SKU-STICKER")
ALL_STATUSES = "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft,trash"


class Store:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.name: str = spec["name"]
        self.http = httpx.AsyncClient(
            base_url=spec["base_url"].rstrip("/") + "/wp-json/wc/v3",
            # Query-string keys: the realwc stores accept them over loopback http.
            params={"consumer_key": spec["consumer_key"], "consumer_secret": spec["consumer_secret"]},
            timeout=300,
        )

    def order(self, index: int, status: str = "processing") -> dict[str, Any]:
        products = self.spec["products"]
        items = [{"product_id": products[SKUS[index % len(SKUS)]], "quantity": 1 + index % 3}]
        if index % 2:
            items.append({"product_id": products[SKUS[(index + 2) % len(SKUS)]], "quantity": 1})
        return {
            "status": status,
            "billing": {
                "first_name": "Bench",
                "last_name": f"Buyer {index}",
                "email": f"b{index}@example.test",
            },
            "line_items": items,
        }

    async def batch(self, create: list[dict[str, Any]] = (), delete: Sequence[int] = ()) -> dict[str, Any]:  # type: ignore[assignment]
        response = await self.http.post(
            "/orders/batch", json={"create": list(create), "delete": list(delete)}
        )
        if response.status_code != 200:
            raise BenchError(f"{self.name}: batch answered {response.status_code}: {response.text[:300]}")
        return dict(response.json())

    async def ids_since(self, since: datetime) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        page = 1
        while True:
            response = await self.http.get(
                "/orders",
                params={
                    "after": since.strftime("%Y-%m-%dT%H:%M:%S"),
                    "dates_are_gmt": "true",
                    "status": ALL_STATUSES,
                    "per_page": 100,
                    "page": page,
                    "_fields": "id,status,meta_data",
                },
            )
            response.raise_for_status()
            items = response.json()
            found += items
            if len(items) < 100:
                return found
            page += 1

    async def delete(self, ids: Sequence[int]) -> None:
        for start in range(0, len(ids), 100):
            response = await self.http.post(
                "/orders/batch", params={"force": "true"}, json={"delete": list(ids[start : start + 100])}
            )
            response.raise_for_status()


async def capacity(subs: Sequence[Store], per_store: int) -> tuple[float, list[tuple[Store, list[int]]]]:
    """Orders a second the sub-stores take together at their best (batches of 50, 2 clients
    each, all stores at once). Returns the rate and the orders written, to delete."""
    written: list[tuple[Store, list[int]]] = []

    async def client(store: Store, batches: int, offset: int) -> list[int]:
        ids: list[int] = []
        for b in range(batches):
            reply = await store.batch(create=[store.order(offset + b * 50 + i) for i in range(50)])
            ids += [o["id"] for o in reply.get("create", []) if isinstance(o.get("id"), int)]
        return ids

    batches = max(1, per_store // 100)  # per client
    started = time.monotonic()
    results = await asyncio.gather(*(client(store, batches, c * 10_000) for store in subs for c in range(2)))
    seconds = time.monotonic() - started
    for i, store in enumerate(subs):
        written.append((store, results[2 * i] + results[2 * i + 1]))
    total = sum(len(ids) for _, ids in written)
    return total / seconds, written


async def run(args: argparse.Namespace) -> int:
    code = code_version()
    specs = json.loads(Path(args.stores).read_text())
    stores = [Store(s) for s in specs[: 1 + args.subs]]
    main, subs = stores[0], stores[1:]
    if not subs:
        raise BenchError("stores.json must name a main store and at least one sub-store")
    cleanup: list[tuple[Store, list[int]]] = []
    started_at = datetime.now(UTC) - timedelta(seconds=5)
    try:
        # A cold store is slower (docs/woocommerce-performance.md): warm every store up first.
        for store in stores:
            reply = await store.batch(create=[store.order(i) for i in range(10)])
            await store.delete([o["id"] for o in reply.get("create", []) if isinstance(o.get("id"), int)])
        print(
            f"capacity: batches of 50, 2 clients per sub-store, {len(subs)} sub-store(s) at once …",
            flush=True,
        )
        best, written = await capacity(subs, args.capacity_orders)
        cleanup += written
        for store, ids in written:
            await store.delete(ids)
        cleanup = []
        print(f"  {best:.2f} orders/s over the sub-stores (written and deleted again)", flush=True)

        print(f"placing {args.orders} orders on {main.name} …", flush=True)
        main_ids: list[int] = []
        for start in range(0, args.orders, 50):
            reply = await main.batch(
                create=[main.order(i) for i in range(start, min(args.orders, start + 50))]
            )
            main_ids += [o["id"] for o in reply.get("create", []) if isinstance(o.get("id"), int)]
        cleanup.append((main, main_ids))
        backfill = started_at - timedelta(minutes=5)

        with tempfile.TemporaryDirectory(prefix="wcsync-real-") as tmp:
            settings = Settings(
                _env_file=None,  # type: ignore[call-arg]
                database_url=f"sqlite+aiosqlite:///{tmp}/wcsync.db",
                admin_token="bench-admin-token-0123456789",
                scheduler_enabled=False,
                log_level="WARNING",
                store_timeout_seconds=120,
                lease_seconds=600,
                origin_note=args.origin_note,
            )
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                engine: SyncEngine = app.state.engine
                async with session_scope(app.state.session_factory) as session:
                    for store in stores:
                        data = StoreCreate.model_validate(
                            {
                                "name": store.name,
                                "role": "main" if store is main else "sub",
                                "base_url": store.spec["base_url"],
                                "consumer_key": store.spec["consumer_key"],
                                "consumer_secret": store.spec["consumer_secret"],
                                "auth_mode": "query",
                                "backfill_since": backfill.isoformat(),
                            }
                        )
                        await store_service.create_store(session, data)
                t0 = time.monotonic()
                run_, _ = await engine.request_run(kind=RunKind.sync_now, direction="main_to_sub")
                assert run_.id is not None
                first = await engine.wait(run_.id, timeout=args.timeout)
                wall = time.monotonic() - t0
                await engine.notes_drained(timeout=args.timeout)
                notes_done = time.monotonic() - t0
                paces = {s.name: engine.ctx.clients.pace_history(s.name) for s in subs}
                t1 = time.monotonic()
                idle_run, _ = await engine.request_run(kind=RunKind.sync_now, direction="both")
                assert idle_run.id is not None
                await engine.wait(idle_run.id, timeout=args.timeout)
                idle = time.monotonic() - t1
        checks = {}
        for store in subs:
            orders = await store.ids_since(started_at)
            origins = Counter(
                m.get("value")
                for o in orders
                for m in o.get("meta_data", [])
                if m.get("key") == "_wcsync_origin"
            )
            cleanup.append((store, [o["id"] for o in orders]))
            expected = {f"{main.name}:{i}" for i in main_ids}
            checks[store.name] = {
                "replicas": sum(origins[k] for k in expected),
                "missing": len(expected - origins.keys()),
                "duplicated": sum(n - 1 for k, n in origins.items() if k in expected and n > 1),
            }
        # Measured again after wcsync's pass; the better of the two is the capacity.
        for store, ids in cleanup:
            await store.delete(ids)
        cleanup = []
        again, written = await capacity(subs, args.capacity_orders)
        cleanup += written
        print(f"  capacity measured again after the pass: {again:.2f} orders/s", flush=True)
        best = max(best, again)
    finally:
        for store, ids in cleanup:
            try:
                await store.delete(ids)
            except httpx.HTTPError as exc:
                print(f"  could not delete {len(ids)} orders on {store.name}: {exc}", file=sys.stderr)
        for store in stores:
            await store.http.aclose()
    rate = first.created / wall
    ok = first.status == "succeeded" and all(
        c["replicas"] == args.orders and c["duplicated"] == 0 for c in checks.values()
    )
    summary = {
        "code": code,
        "woocommerce": sorted({s.spec.get("woocommerce", "?") for s in stores}),
        "orders": args.orders,
        "subs": len(subs),
        "capacity_orders_per_s": round(best, 2),
        "wall_s": round(wall, 1),
        "replicas": first.created,
        "replicas_per_s": round(rate, 2),
        "of_capacity": round(rate / best, 2),
        "notes_done_s": round(notes_done, 1),
        "idle_pass_s": round(idle, 2),
        "checks": checks,
        "verified": ok,
        "paces": {
            name: [f"{limit}x{batch} {why}" for _, limit, batch, why in h] for name, h in paces.items()
        },
    }
    print(
        f"\n== real stores (WooCommerce {', '.join(summary['woocommerce'])}): {args.orders} orders ->"
        f" {len(subs)} sub-store(s), code {code}\n"
        f"  the host's capacity (batches of 50, 2 clients per store): {best:.2f} orders/s\n"
        f"  wcsync defaults: {first.created} replicas in {wall:.1f} s = {rate:.2f} replicas/s,"
        f" {rate / best:.0%} of capacity; origin notes done at {notes_done:.1f} s\n"
        f"  idle pass right after, both directions: {idle:.2f} s\n"
        f"  replicas: {json.dumps(checks)}: {'ok' if ok else 'WRONG'}"
    )
    for name, moves in summary["paces"].items():
        print(f"  pace of {name}: {'; '.join(moves)}")
    print(json.dumps(summary))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/real.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", required=True, help="the realwc kit's stores.json")
    parser.add_argument("--orders", type=int, default=100)
    parser.add_argument("--subs", type=int, default=2)
    parser.add_argument(
        "--capacity-orders", type=int, default=200, help="orders per sub-store to measure capacity"
    )
    parser.add_argument("--origin-note", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench/real.py: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
