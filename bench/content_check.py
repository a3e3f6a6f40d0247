"""The content check's bound: how long until an edit WooCommerce's posts storage hides (line items,
addresses, totals, meta saved with no date moved) reaches its copies, for a store with N open
orders.

A fake main store (posts storage) and ``--subs`` fake sub-stores are served on 127.0.0.1 in this
process. The main store gets ``--open`` open orders, copied to every sub-store by one Sync Now
pass with no latency (not timed). Then every store takes the latency model (docs/
woocommerce-performance.md: 90 ms a request + 130 ms an order written, 2 requests at once) plus
``--read-ms`` per full order a listing answers (measured on the real 7.8.2 posts store: see the
README), ``--edited`` origins get a hidden edit (a line's quantity and totals, no date moved),
and the content check runs slice after slice, as the scheduler would every
WCSYNC_CONTENT_CHECK_INTERVAL_SECONDS, until a whole round is done. Printed: each slice's time,
the round's slices, and the bound: a round takes ceil(open / batch) intervals as long as a slice
is shorter than the interval. Every copy is then checked to equal its origin (content).

    .venv/bin/python bench/content_check.py                       # 1,000 open orders, 2 sub-stores
    .venv/bin/python bench/content_check.py --open 200 --edited 5 # a quick check

Exit status: 0 measured and verified, 1 measured but a copy differs, 2 could not measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from app.config import Settings
from app.main import create_app
from app.models import RunKind
from app.sync import stores as store_service
from app.sync.runs.content_check import ContentCheck, round_seconds
from app.sync.runs.engine import SyncEngine
from app.testing import DEMO_CATALOG, FakeStore, Knobs
from app.testing.exact import copy_differences
from app.testing.server import serve_in_background

MAIN = "main"


def fake(name: str) -> FakeStore:
    store = FakeStore(
        name,
        consumer_key=f"ck_{name}_0123456789abcdef",
        consumer_secret=f"cs_{name}_secret_0123456789",
        knobs=Knobs(),
    )
    store.load_catalog(list(DEMO_CATALOG))
    return store


@contextlib.asynccontextmanager
async def served(fakes: list[FakeStore]) -> AsyncIterator[dict[str, str]]:
    async with contextlib.AsyncExitStack() as stack:
        urls = {f.name: await stack.enter_async_context(serve_in_background(f)) for f in fakes}
        yield urls


async def measure(args: argparse.Namespace) -> int:
    fakes = [fake(MAIN)] + [fake(f"sub{i + 1}") for i in range(args.subs)]
    main = fakes[0]
    for _ in range(args.open):
        main.place_order([("SKU-MUG-001", 1), ("SKU-STICKER", 2)])
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'wcsync.db'}"
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            database_url=url,
            secret_key_file=str(Path(tmp) / "wcsync.key"),
            scheduler_enabled=False,
            content_check_batch=args.batch,
        )
        async with served(fakes) as urls:
            app = create_app(settings)
            async with app.router.lifespan_context(app):
                engine: SyncEngine = app.state.engine
                for store in fakes:
                    await store_service.connect_store(
                        engine,
                        store_service.NewStore(
                            name=store.name,
                            role="main" if store.name == MAIN else "sub",  # type: ignore[arg-type]
                            base_url=urls[store.name],
                            consumer_key=store.consumer_key,
                            consumer_secret=store.consumer_secret,
                            auth_mode="basic",  # type: ignore[arg-type]
                            backfill_since=datetime(2020, 1, 1, tzinfo=UTC),
                        ),
                    )
                run, _ = await engine.request_run(kind=RunKind.sync_now, direction="main_to_sub")
                assert run.id is not None
                done = await engine.wait(run.id, timeout=args.timeout)
                print(f"seeded: {args.open} open orders copied to {args.subs} sub-stores ({done.status})")
                for store in fakes:
                    store.knobs.update(
                        {
                            "latency_base_ms": 90.0,
                            "latency_per_order_ms": 130.0,
                            "latency_per_order_read_ms": args.read_ms,
                            "max_concurrency": 2,
                        }
                    )
                edited = sorted(main.orders)[:: max(1, args.open // max(1, args.edited))][: args.edited]
                for order_id in edited:
                    line = main.orders[order_id]["line_items"][0]
                    main.save_items(
                        order_id,
                        line_items=[{"id": line["id"], "quantity": 3, "subtotal": "37.50", "total": "37.50"}],
                    )
                check = ContentCheck(engine.ctx)
                slices: list[float] = []
                written = 0
                while True:
                    started = time.monotonic()
                    stats = await check.tick()
                    slices.append(time.monotonic() - started)
                    written += stats.written
                    print(
                        f"  slice {len(slices)}: {slices[-1]:.1f} s, read {stats.read}, "
                        f"changed {stats.origins_changed}, written {stats.written}"
                    )
                    if MAIN in stats.rounds_done or len(slices) > math.ceil(args.open / args.batch) + 1:
                        break
                problems = 0
                for order_id in edited:
                    origin = main.orders[order_id]
                    for sub in fakes[1:]:
                        (copy,) = sub.find_by_meta("_wcsync_origin", f"{MAIN}:{order_id}")
                        differences = copy_differences(origin, copy, origin_store=MAIN)
                        problems += bool(differences)
    slowest = max(slices)
    bound = round_seconds(args.open, batch=args.batch, interval=max(args.interval, slowest))
    print(
        f"open orders {args.open}, batch {args.batch}, sub-stores {args.subs}, edited {args.edited}: "
        f"{len(slices)} slices, slowest {slowest:.1f} s, median {sorted(slices)[len(slices) // 2]:.1f} s, "
        f"copies written {written} (expected {args.edited * args.subs})"
    )
    print(
        f"bound: an edit reaches its copies within {bound / 60:.1f} min "
        f"(ceil({args.open}/{args.batch}) slices x {max(args.interval, slowest):.0f} s) "
        f"for a store with {args.open} open orders"
    )
    if problems or written != args.edited * args.subs:
        print(f"FAILED: {problems} copies differ from their origin", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--open", type=int, default=1000, help="open orders on the main store")
    parser.add_argument("--subs", type=int, default=2)
    parser.add_argument("--edited", type=int, default=20, help="origins edited with no date moved")
    parser.add_argument("--batch", type=int, default=100, help="WCSYNC_CONTENT_CHECK_BATCH")
    parser.add_argument("--interval", type=float, default=60.0, help="WCSYNC_CONTENT_CHECK_INTERVAL_SECONDS")
    parser.add_argument("--read-ms", type=float, default=75.0, help="ms per full order a listing answers")
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args()
    try:
        return asyncio.run(measure(args))
    except Exception as exc:  # could not measure
        print(f"could not measure: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
