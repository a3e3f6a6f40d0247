"""Badge benchmark: GET /api/pending and /api/links pages at a million link rows.

Builds a ledger of `--links` links (1,000,000) in a scratch database (SQLite in a temporary
directory, or a fresh database on `--database-url`'s PostgreSQL server), through the real
migrations and the real triggers that keep the counts, then times requests through the whole app
(FastAPI, the admin token's auth, a session per request) with httpx's ASGI transport: no network,
so the figures are wcsync's and the database's alone.

    .venv/bin/python bench/badge.py                        # SQLite, 1M links
    .venv/bin/python bench/badge.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/badge.py --links 100000 --requests 100   # a quick check

The mix: one main store, four sub-stores; nine links in ten main -> sub, one in ten sub -> main;
90 % synced, 5 % pending, 1 % in flight, 4 % failed; one in 97 with a status to write back.
Printed: per route, the medians over `--repeat` runs (3) of p50/p99 as the server sees them
(request in, last byte out) and as the client does (httpx on top), beside the goal (GET
/api/pending p99 <= 10 ms, any /api/links page p99 <= 20 ms), the load average, and the counts
checked against a full count from scratch.
Exit status: 0 goals met and counts right, 1 otherwise, 2 could not measure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.config import Settings  # noqa: E402
from app.db import is_sqlite, session_scope  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import Store, StoreRole  # noqa: E402
from bench.replicate import BenchError, code_version, scratch_database  # noqa: E402

TOKEN = "bench-admin-token-0123456789"
PENDING_GOAL_MS = 10.0
LINKS_GOAL_MS = 20.0
SUBS = 4

STATE_SQL = (
    "CASE WHEN x % 100 < 90 THEN 'synced' WHEN x % 100 < 95 THEN 'pending'"
    " WHEN x % 100 < 96 THEN 'in_flight' ELSE 'failed' END"
)


def populate_sql(dialect: str, start: int, stop: int) -> str:
    """Links x in [start, stop): 9 in 10 from main (store 1) to sub (x % 4) + 2, one in 10 from a
    sub to main. One INSERT … SELECT per chunk: the triggers keep the counts as they would."""
    series = (
        f"generate_series({start}, {stop - 1}) AS s(x)"
        if dialect == "postgresql"
        else f"(WITH RECURSIVE s(x) AS (SELECT {start} UNION ALL SELECT x + 1 FROM s WHERE x < {stop - 1}) "
        "SELECT x FROM s) AS s"
    )
    now = "now()" if dialect == "postgresql" else "'2026-11-30 00:00:00+00:00'"
    return f"""
    INSERT INTO link (origin_store_id, origin_order_id, target_store_id, direction, state, attempts,
                      status_to_origin, target_order_id, created_at, updated_at)
    SELECT CASE WHEN x % 10 = 0 THEN (x / 10) % {SUBS} + 2 ELSE 1 END,
           x,
           CASE WHEN x % 10 = 0 THEN 1 ELSE x % {SUBS} + 2 END,
           CASE WHEN x % 10 = 0 THEN 'sub_to_main' ELSE 'main_to_sub' END,
           {STATE_SQL}, 1,
           CASE WHEN x % 97 = 0 THEN 'completed' END,
           CASE WHEN x % 100 < 90 THEN x + 5000000 END,
           {now}, {now}
    FROM {series}
    """


async def populate(app: Any, links: int, chunk: int) -> float:
    factory = app.state.session_factory
    async with session_scope(factory) as session:
        session.add(
            Store(name="main", role=StoreRole.main, base_url="https://main.bench.test", **_keys("main"))
        )
        for i in range(1, SUBS + 1):
            session.add(
                Store(
                    name=f"sub{i}",
                    role=StoreRole.sub,
                    base_url=f"https://sub{i}.bench.test",
                    **_keys(f"s{i}"),
                )
            )
    dialect = "sqlite" if is_sqlite(app.state.settings.database_url) else "postgresql"
    started = time.perf_counter()
    for start in range(1, links + 1, chunk):
        stop = min(start + chunk, links + 1)
        async with session_scope(factory) as session:
            await session.exec(text(populate_sql(dialect, start, stop)))  # type: ignore[call-overload]
        print(f"  {stop - 1:>9,} links written ({time.perf_counter() - started:.0f} s)", flush=True)
    async with session_scope(factory) as session:
        await session.exec(text("ANALYZE"))  # type: ignore[call-overload]
    return time.perf_counter() - started


def _keys(name: str) -> dict[str, str]:
    return {"consumer_key": f"ck_{name}_0123456789", "consumer_secret": f"cs_{name}_0123456789"}


async def truth(app: Any) -> dict[str, int]:
    """The badge's numbers counted from scratch, by scanning the ledger."""
    async with session_scope(app.state.session_factory) as session:
        row = (
            await session.exec(  # type: ignore[call-overload]
                text(
                    "SELECT "
                    "(SELECT COUNT(*) FROM (SELECT DISTINCT origin_store_id, origin_order_id FROM link"
                    "  WHERE state IN ('pending', 'in_flight') OR status_to_origin IS NOT NULL) o),"
                    "(SELECT COUNT(*) FROM link WHERE state IN ('pending', 'in_flight'))"
                    " + (SELECT COUNT(*) FROM link WHERE status_to_origin IS NOT NULL),"
                    "(SELECT COUNT(*) FROM (SELECT DISTINCT origin_store_id, origin_order_id FROM link"
                    "  WHERE state = 'failed') f),"
                    "(SELECT COUNT(*) FROM link WHERE state = 'failed'),"
                    "(SELECT COUNT(*) FROM link)"
                )
            )
        ).one()
    return dict(zip(("orders", "copies", "failed", "failed_copies", "links"), map(int, row), strict=True))


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class ServerClock:
    """The app as the server sees it: from the request's arrival to its last body byte handed
    back, and the process's CPU meanwhile (requests are sent one at a time, so that CPU is the
    request's). The client-side figure adds httpx's own work on top."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ms: list[float] = []
        self.cpu_ms: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, cpu = time.perf_counter(), time.process_time()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.ms.append((time.perf_counter() - started) * 1000)
                self.cpu_ms.append((time.process_time() - cpu) * 1000)
            await send(message)

        await self.app(scope, receive, timed_send)


async def timed(
    client: httpx.AsyncClient, clock: ServerClock, path: str, requests: int
) -> tuple[dict[str, list[float]], Any]:
    samples: list[float] = []
    body: Any = None
    clock.ms.clear()
    clock.cpu_ms.clear()
    for _ in range(requests):
        started = time.perf_counter()
        response = await client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            raise BenchError(f"GET {path} answered {response.status_code}: {response.text[:300]}")
        body = response.json()
    warm = max(1, requests // 20)  # the first few warm caches up
    return {"client": samples[warm:], "server": clock.ms[warm:], "cpu": clock.cpu_ms[warm:]}, body


async def measure(args: argparse.Namespace, database_url: str, tmp: Path) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        # Never the working directory's wcsync.key (the default beside a PostgreSQL database).
        secret_key_file=str(tmp / "wcsync.key"),
        admin_token=TOKEN,
        scheduler_enabled=False,
        log_level="WARNING",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        app.state.settings = settings
        print(f"writing {args.links:,} links …", flush=True)
        write_seconds = await populate(app, args.links, args.chunk)
        expected = await truth(app)
        clock = ServerClock(app)
        transport = httpx.ASGITransport(app=clock)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://wcsync.bench", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client:
            middle = args.links // 2
            pages = [
                "/api/links?limit=50",
                "/api/links?limit=50&state=failed",
                "/api/links?limit=50&state=pending&store=sub2",
                "/api/links?limit=50&store=sub3",
                "/api/links?limit=50&direction=sub_to_main",
                f"/api/links?limit=50&before={middle}",
                f"/api/links?limit=50&state=failed&before={middle}",
                f"/api/links?limit=50&store=sub1&before={middle}",
                f"/api/links?limit=200&state=synced&store=main&before={middle}",
            ]
            # Each run times every route in turn; the figures are the medians over the runs.
            runs: list[list[dict[str, Any]]] = []
            loads = [os.getloadavg()[0]]
            for _ in range(args.repeat):
                rows: list[dict[str, Any]] = []
                samples, pending = await timed(client, clock, "/api/pending", args.requests)
                rows.append({"route": "GET /api/pending", "goal_ms": PENDING_GOAL_MS, **samples})
                for path in pages:
                    samples, page = await timed(client, clock, path, args.requests)
                    if not page["items"]:
                        raise BenchError(f"{path} returned no links")
                    rows.append({"route": f"GET {path}", "goal_ms": LINKS_GOAL_MS, **samples})
                runs.append(rows)
                loads.append(os.getloadavg()[0])
            # Keyset: walk 20 pages of the failed links from the newest and check none repeats.
            seen: list[int] = []
            before = None
            for _ in range(20):
                query = "/api/links?limit=200&state=failed" + (f"&before={before}" if before else "")
                page = (await client.get(query)).json()
                seen += [item["id"] for item in page["items"]]
                before = page["next_before"]
            keyset_ok = len(seen) == len(set(seen)) == 4000 and seen == sorted(seen, reverse=True)
            offset, _ = await timed(client, clock, f"/api/links?limit=50&offset={args.links // 2}", 5)
    got = {key: pending[key] for key in ("orders", "copies", "failed", "failed_copies")}
    counts_ok = got == {k: expected[k] for k in got} and page["total"] >= 0
    result = {
        "links": args.links,
        "requests": args.requests,
        "database": make_url(database_url).get_backend_name(),
        "write_seconds": round(write_seconds, 1),
        "counts": got,
        "counts_from_scratch": expected,
        "counts_ok": counts_ok,
        "keyset_ok": keyset_ok,
        "offset_deep_p50_ms": round(statistics.median(offset["client"]), 1),
        "repeat": args.repeat,
        "load_average_1min": [round(x, 2) for x in loads],
        "routes": [
            {
                "route": per_run[0]["route"],
                "goal_ms": per_run[0]["goal_ms"],
                **{
                    f"{side}_{name}_ms": round(statistics.median(percentile(r[side], q) for r in per_run), 2)
                    for side in ("client", "server")
                    for name, q in (("p50", 0.5), ("p99", 0.99))
                },
                "server_cpu_p50_ms": round(statistics.median(percentile(r["cpu"], 0.5) for r in per_run), 2),
            }
            for per_run in zip(*runs, strict=True)
        ],
    }
    return result


def report(result: dict[str, Any], code: str) -> bool:
    print(
        f"\n== badge: {result['links']:,} links, {result['database']}, code {code}"
        f" (ledger written in {result['write_seconds']} s, counts kept by the triggers)"
    )
    ok = result["counts_ok"] and result["keyset_ok"]
    width = max(len(r["route"]) for r in result["routes"])
    print(
        f"  medians of {result['repeat']} runs of {result['requests']} requests per route;"
        f" load average (1 min) before and after each run: {result['load_average_1min']}"
    )
    print(
        f"  {'route':<{width}}  {'server p50':>10}  {'server p99':>10}  {'client p50':>10}"
        f"  {'client p99':>10}  {'cpu p50':>7}  goal p99   verdict (client p99)"
    )
    for r in result["routes"]:
        met = r["client_p99_ms"] <= r["goal_ms"]
        ok = ok and met
        print(
            f"  {r['route']:<{width}}  {r['server_p50_ms']:>10.2f}  {r['server_p99_ms']:>10.2f}"
            f"  {r['client_p50_ms']:>10.2f}  {r['client_p99_ms']:>10.2f}  {r['server_cpu_p50_ms']:>7.2f}"
            f"  <= {r['goal_ms']:>4.0f} ms   {'met' if met else 'MISSED'}"
        )
    print(
        f"  counts {result['counts']} vs from scratch"
        f" {dict((k, result['counts_from_scratch'][k]) for k in result['counts'])}:"
        f" {'equal' if result['counts_ok'] else 'DIFFERENT'}"
    )
    print(
        "  keyset walk of 20 pages of failed links:",
        "no repeat, in order" if result["keyset_ok"] else "WRONG",
    )
    print(
        f"  for comparison, offset={result['links'] // 2:,} (old clients):",
        f"p50 {result['offset_deep_p50_ms']} ms",
    )
    print(json.dumps({**result, "code": code}))
    return ok


async def run(args: argparse.Namespace) -> int:
    code = code_version()
    with tempfile.TemporaryDirectory(prefix="wcsync-badge-") as tmp:
        async with scratch_database(args.database_url, Path(tmp)) as url:
            result = await measure(args, url, Path(tmp))
    return 0 if report(result, code) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/badge.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--links", type=int, default=1_000_000, help="link rows (1,000,000)")
    parser.add_argument("--requests", type=int, default=200, help="requests per route (200)")
    parser.add_argument("--chunk", type=int, default=100_000, help="links per INSERT (100,000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs over the same ledger, medians (3)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server whose user may CREATE DATABASE (default SQLite)",
    )
    args = parser.parse_args(argv)
    if args.links < 10_000:
        parser.error("--links must be at least 10,000 (the keyset walk reads 4,000 failed links)")
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench/badge.py: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
