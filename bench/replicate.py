"""Replication benchmark: one Sync Now pass main -> sub, timed against the latency model.

A fake main store and ``--subs`` fake sub-stores run as separate processes on 127.0.0.1, each
with docs/woocommerce-performance.md's latency model (90 ms per request + 130 ms per order written, at most 2
requests served at once). The main store gets ``--orders`` orders through its control API; wcsync
runs in this process (so the peak RSS printed is wcsync's alone) and replicates them to every
sub-store in one Sync Now pass. Printed: wall time, requests the stores received, orders per
second, peak RSS, and wall time / the least time the model allows at the configured concurrency.
Then each sub-store is checked to hold exactly one replica per main order, and a second pass is
timed (it must create nothing). No goal is enforced.

    .venv/bin/python bench/replicate.py                            # 2,000 orders, 3 sub-stores
    .venv/bin/python bench/replicate.py --orders 200 --scale 0.1   # a quick check

Exit status: 0 measured and verified, 1 measured but a check failed, 2 could not measure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import math
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.api.schemas import StoreCreate
from app.config import Settings
from app.db import SessionFactory, is_sqlite, session_scope
from app.main import configure_logging, create_app
from app.models import Run, RunKind, RunStatus
from app.sync import repository as repo
from app.sync import stores as store_service
from app.sync.plan.mapping import ORIGIN_META, meta_value, origin_key
from app.sync.runs.engine import SyncEngine
from app.testing.catalog import SIMPLE_CATALOG

BATCH_LIMIT = 100  # WooCommerce's most items per /orders/batch and per listing page
MAIN = "main"
BACKFILL_SINCE = "2020-01-01T00:00:00Z"
FAKE_STORE = Path(__file__).resolve().with_name("fake_store.py")
PARENT_ENV = "WCSYNC_BENCH_PARENT_PID"  # read by fake_store.py
PROGRESS_EVERY_SECONDS = 15.0
STARTUP_SECONDS = 30.0
SEED_IN_FLIGHT = 32
TRICKLE_ORDERS = 12  # --warm-pass: orders placed and copied one at a time before the warm pass
DEFAULT_BATCH_SIZE: int = Settings.model_fields["batch_size"].default
DEFAULT_STORE_TIMEOUT: float = Settings.model_fields["store_timeout_seconds"].default


class BenchError(Exception):
    """The benchmark could not measure: a store did not start, a pass ran out of time, ..."""


# --- the latency model and the least time it allows -----------------------------------------


@dataclass(frozen=True)
class Model:
    """Latency of one fake store, already scaled: base + per_order × orders written."""

    base_ms: float
    per_order_ms: float
    concurrency: int


@dataclass(frozen=True)
class LeastTime:
    """The least wall time the model allows for one pass, and the inputs of the formula."""

    orders: int
    writes_per_sub: int
    batch_limit: int
    batches_per_sub: int
    notes_per_sub: int
    requests_per_sub: int
    sub_seconds: float
    discovery_pages: int
    discovery_seconds: float

    @property
    def seconds(self) -> float:
        return self.discovery_seconds + self.sub_seconds


def least_time(
    orders: int, writes_per_sub: int, model: Model, *, notes: bool, batch_limit: int = BATCH_LIMIT
) -> LeastTime:
    """Discovery reads the main store's listing one page after another; then the sub-stores work
    in parallel, each keeping ``concurrency`` slots busy with the fewest requests that write its
    orders (full batches, plus one request per origin note). With routing "all" every sub-store
    writes every order, so the slowest sub-store is any one of them."""
    batches = math.ceil(writes_per_sub / batch_limit)
    notes_count = writes_per_sub if notes else 0
    requests = batches + notes_count
    sub_ms = (requests * model.base_ms + writes_per_sub * model.per_order_ms) / model.concurrency
    pages = math.ceil(orders / BATCH_LIMIT)
    return LeastTime(
        orders=orders,
        writes_per_sub=writes_per_sub,
        batch_limit=batch_limit,
        batches_per_sub=batches,
        notes_per_sub=notes_count,
        requests_per_sub=requests,
        sub_seconds=sub_ms / 1000,
        discovery_pages=pages,
        discovery_seconds=pages * model.base_ms / 1000,
    )


# --- fake stores in their own processes -----------------------------------------------------


@dataclass
class FakeStoreProcess:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def consumer_key(self) -> str:
        return f"ck_bench_{self.name}_0123456789"

    @property
    def consumer_secret(self) -> str:
        return f"cs_bench_{self.name}_0123456789"

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def free_ports(count: int) -> list[int]:
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def start_fake(name: str, port: int, model: Model, log_dir: Path) -> FakeStoreProcess:
    log_path = log_dir / f"{name}.log"
    command = [
        sys.executable,
        str(FAKE_STORE),
        "--name",
        name,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--catalog",
        "demo",
        "--consumer-key",
        f"ck_bench_{name}_0123456789",
        "--consumer-secret",
        f"cs_bench_{name}_0123456789",
        "--latency-base-ms",
        repr(model.base_ms),
        "--latency-per-order-ms",
        repr(model.per_order_ms),
        "--max-concurrency",
        str(model.concurrency),
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env={**os.environ, PARENT_ENV: str(os.getpid())},
        )
    return FakeStoreProcess(name=name, port=port, process=process, log_path=log_path)


def stop_fakes(fakes: Sequence[FakeStoreProcess]) -> None:
    running = [f for f in fakes if f.process.poll() is None]
    for fake in running:
        fake.process.terminate()
    for fake in running:
        try:
            fake.process.wait(10)
        except subprocess.TimeoutExpired:
            fake.process.kill()
            fake.process.wait()


async def wait_ready(http: httpx.AsyncClient, fake: FakeStoreProcess) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if fake.process.poll() is not None:
            raise BenchError(
                f"fake store {fake.name} exited with {fake.process.returncode} before serving:\n"
                f"{fake.log_tail()}"
            )
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(f"{fake.url}/__fake__/knobs")).status_code == 200:
                return
        await asyncio.sleep(0.1)
    raise BenchError(f"fake store {fake.name} did not answer within {STARTUP_SECONDS:.0f} s")


async def seed_orders(http: httpx.AsyncClient, main: FakeStoreProcess, count: int) -> list[int]:
    """Storefront checkouts on the main store (the control API adds no latency)."""
    skus = [p["sku"] for p in SIMPLE_CATALOG if p["sku"]]
    limit = asyncio.Semaphore(SEED_IN_FLIGHT)

    async def place(index: int) -> int:
        items = [{"sku": skus[index % len(skus)], "quantity": 1 + index % 3}]
        if index % 2:
            items.append({"sku": skus[(index + 2) % len(skus)], "quantity": 1})
        async with limit:
            response = await http.post(f"{main.url}/__fake__/orders", json={"items": items})
        if response.status_code != 201:
            raise BenchError(f"could not place order {index} on the main store: {response.text}")
        return int(response.json()["id"])

    return list(await asyncio.gather(*(place(i) for i in range(count))))


async def store_stats(http: httpx.AsyncClient, fakes: Sequence[FakeStoreProcess]) -> dict[str, Any]:
    responses = await asyncio.gather(*(http.get(f"{f.url}/__fake__/stats") for f in fakes))
    return {f.name: r.json() for f, r in zip(fakes, responses, strict=True)}


# --- what the stores saw --------------------------------------------------------------------


@dataclass
class Traffic:
    """One store's requests during one pass, from its stats before and after."""

    requests: Counter[str]
    orders_written: int
    busy_seconds: float  # sum over requests of the time each held a service slot
    first_start: float | None  # time.monotonic(): CLOCK_MONOTONIC, shared by all processes
    last_finish: float | None
    max_in_flight: int
    max_waiting: int

    @property
    def total(self) -> int:
        return sum(self.requests.values())


def traffic_between(before: dict[str, Any], after: dict[str, Any]) -> Traffic:
    requests: Counter[str] = Counter(after["requests"])
    requests.subtract(before["requests"])
    cutoff = max((s["finished"] for s in before["served"]), default=-math.inf)
    served = [s for s in after["served"] if s["started"] > cutoff]
    return Traffic(
        requests=+requests,
        orders_written=after["orders_written"] - before["orders_written"],
        busy_seconds=sum(s["finished"] - s["started"] for s in served),
        first_start=min((s["started"] for s in served), default=None),
        last_finish=max((s["finished"] for s in served), default=None),
        max_in_flight=after["max_in_flight"],
        max_waiting=after["max_waiting"],
    )


@dataclass
class PassResult:
    run: Run
    wall_seconds: float
    started: float
    finished: float
    traffic: dict[str, Traffic]
    cpu_seconds: float = 0.0  # this process's CPU (wcsync and its database driver) during the pass
    statements: int = 0  # SQL statements wcsync sent during the pass (an executemany counts once)

    @property
    def requests(self) -> int:
        return sum(t.total for t in self.traffic.values())

    def phases(self) -> list[tuple[str, float]] | None:
        """Where the wall time went, from the stores' service timestamps."""
        main = self.traffic[MAIN]
        subs = [t for name, t in self.traffic.items() if name != MAIN and t.first_start is not None]
        if main.first_start is None or main.last_finish is None or not subs:
            return None
        first_sub = min(t.first_start for t in subs if t.first_start is not None)
        last_sub = max(t.last_finish for t in subs if t.last_finish is not None)
        marks = [self.started, main.first_start, main.last_finish, first_sub, last_sub, self.finished]
        if any(later < earlier - 0.05 for earlier, later in zip(marks, marks[1:], strict=False)):
            return None  # the stores' clocks are not ours (not Linux?)
        return [
            ("request -> first main-store request", main.first_start - self.started),
            ("discovery (main store's listing)", main.last_finish - main.first_start),
            ("discovery end -> first sub-store request", first_sub - main.last_finish),
            ("sub-store requests, first to last", last_sub - first_sub),
            ("last sub-store reply -> pass end", self.finished - last_sub),
        ]


@dataclass
class Verification:
    store: str
    replicas: int
    missing: int
    duplicated: int
    stray: int
    trashed: int

    @property
    def ok(self) -> bool:
        return not (self.missing or self.duplicated or self.stray)


async def verify_replicas(
    http: httpx.AsyncClient, subs: Sequence[FakeStoreProcess], main_ids: Sequence[int]
) -> list[Verification]:
    """Each sub-store must hold exactly one live replica of each main order, by `_wcsync_origin`."""
    expected = {origin_key(MAIN, order_id) for order_id in main_ids}
    results = []
    for sub in subs:
        orders = (await http.get(f"{sub.url}/__fake__/orders")).json()
        live: Counter[str] = Counter()
        trashed = 0
        for order in orders:
            origin = meta_value(order, ORIGIN_META)
            if not isinstance(origin, str):
                continue
            if order.get("status") == "trash":
                trashed += 1
            else:
                live[origin] += 1
        results.append(
            Verification(
                store=sub.name,
                replicas=sum(live.values()),
                missing=len(expected - live.keys()),
                duplicated=sum(n - 1 for key, n in live.items() if key in expected and n > 1),
                stray=sum(n for key, n in live.items() if key not in expected),
                trashed=trashed,
            )
        )
    return results


# --- memory ---------------------------------------------------------------------------------


def reset_peak_rss() -> bool:
    """Linux: start the peak RSS again from the current RSS (so repetitions are independent)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def current_rss_mib() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


# --- wcsync ---------------------------------------------------------------------------------


def code_version() -> str:
    """The commit measured, "+dirty" when app/ or migrations/ differ from it."""
    root = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", "app", "migrations"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if changes else "")


@contextlib.asynccontextmanager
async def scratch_database(database_url: str | None, tmp: Path) -> AsyncIterator[str]:
    """A fresh SQLite file, or a fresh PostgreSQL database on the given server, dropped after."""
    if database_url is None:
        yield f"sqlite+aiosqlite:///{tmp / 'wcsync.db'}"
        return
    name = f"wcsync_bench_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        await admin.dispose()
        raise BenchError(f"could not create a scratch database on {database_url!r}: {exc}") from exc
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


async def register_stores(session_factory: SessionFactory, fakes: Sequence[FakeStoreProcess]) -> None:
    async with session_scope(session_factory) as session:
        for fake in fakes:
            data = StoreCreate.model_validate(
                {
                    "name": fake.name,
                    "role": "main" if fake.name == MAIN else "sub",
                    "base_url": fake.url,
                    "consumer_key": fake.consumer_key,
                    "consumer_secret": fake.consumer_secret,
                    # The fake serves as if behind https, so it takes Basic auth over loopback http.
                    "auth_mode": "basic",
                    "routing": "all",
                    "backfill_since": BACKFILL_SINCE,
                }
            )
            await store_service.create_store(session, store_service.NewStore(**data.model_dump()))


async def wait_for_run(engine: SyncEngine, run_id: int, timeout: float, label: str) -> Run:
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            await engine.shutdown(timeout=0)
            raise BenchError(f"{label} did not finish within --timeout {timeout:.0f} s; stopped it")
        try:
            return await engine.wait(run_id, timeout=min(remaining, PROGRESS_EVERY_SECONDS))
        except TimeoutError:
            async with session_scope(engine.ctx.session_factory) as session:
                run = await repo.get_run(session, run_id)
            print(
                f"  {label}: {run.progress_done}/{run.progress_total} links done, "
                f"{run.created} created, {run.failed} failed",
                file=sys.stderr,
                flush=True,
            )


async def timed_pass(
    engine: SyncEngine,
    http: httpx.AsyncClient,
    fakes: Sequence[FakeStoreProcess],
    timeout: float,
    label: str,
    direction: str = "main_to_sub",
) -> PassResult:
    before = await store_stats(http, fakes)
    started = time.monotonic()
    cpu_started = time.process_time()
    run, _ = await engine.request_run(kind=RunKind.sync_now, direction=direction)
    assert run.id is not None
    final = await wait_for_run(engine, run.id, timeout, label)
    finished = time.monotonic()
    cpu = time.process_time() - cpu_started
    after = await store_stats(http, fakes)
    return PassResult(
        run=final,
        wall_seconds=finished - started,
        started=started,
        finished=finished,
        traffic={f.name: traffic_between(before[f.name], after[f.name]) for f in fakes},
        cpu_seconds=cpu,
    )


STATEMENT_KINDS: Counter[str] = Counter()  # with --sql-top: pass 1's statements by their start


def count_statements(db_engine: Any) -> list[int]:
    """A counter of the SQL statements sent on this engine from now on (one cell, mutated)."""
    counter = [0]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        counter[0] += 1
        STATEMENT_KINDS[" ".join(statement.split())[:90]] += 1

    sqlalchemy.event.listen(db_engine.sync_engine, "before_cursor_execute", count)
    return counter


# --- one measurement ------------------------------------------------------------------------


@dataclass
class Measurement:
    first: PassResult
    second: PassResult
    least: LeastTime
    least_at_batch_size: LeastTime
    verification: list[Verification]
    peak_rss_mib: float
    rss_before_mib: float | None
    peak_reset: bool
    seed_seconds: float
    orders: int
    subs: int
    concurrency: int
    notes_seconds: float  # after pass 1: until its origin notes were all written
    notes_requests: int
    least_with_notes: LeastTime
    paces: dict[str, list[tuple[float, int, int, str]]]
    settle_requests: dict[str, int]
    notes: list[str] = field(default_factory=list)
    # --warm-pass: as many new main orders again, copied by the same process (its pace remembered).
    warm: PassResult | None = None
    warm_verification: list[Verification] = field(default_factory=list)
    warm_paces: dict[str, list[tuple[float, int, int, str]]] = field(default_factory=dict)

    @property
    def ratio(self) -> float:
        return self.first.wall_seconds / self.least.seconds if self.least.seconds > 0 else math.nan

    @property
    def verified(self) -> bool:
        return (
            all(v.ok and v.replicas == self.orders for v in self.verification)
            and len(self.verification) == self.subs
            and self.first.run.status == RunStatus.succeeded
            and self.second.run.created == 0
            and (
                self.warm is None
                or (
                    self.warm.run.status == RunStatus.succeeded
                    and len(self.warm_verification) == self.subs
                    and all(
                        v.ok and v.replicas == 2 * self.orders + TRICKLE_ORDERS
                        for v in self.warm_verification
                    )
                )
            )
        )

    def figures(self) -> dict[str, float]:
        wall = self.first.wall_seconds
        return {
            "wall_s": wall,
            "requests": float(self.first.requests),
            "orders_per_s": self.orders / wall,
            "replicas_per_s": self.first.run.created / wall,
            "peak_rss_mib": self.peak_rss_mib,
            "least_s": self.least.seconds,
            "ratio": self.ratio,
            "second_wall_s": self.second.wall_seconds,
            "second_requests": float(self.second.requests),
            "second_created": float(self.second.run.created),
            "cpu_ms_per_replica": self.first.cpu_seconds * 1000 / max(1, self.first.run.created),
            "sql_per_replica": self.first.statements / max(1, self.first.run.created),
            "notes_done_s": wall + self.notes_seconds,
            "notes_ratio": (wall + self.notes_seconds) / self.least_with_notes.seconds
            if self.notes_requests and self.least_with_notes.seconds > 0
            else math.nan,
            "second_max_requests_per_store": float(max(t.total for t in self.second.traffic.values())),
            "max_concurrency_used": float(
                max((limit for h in self.paces.values() for _, limit, _, _ in h), default=0)
            ),
            **(
                {
                    "warm_wall_s": self.warm.wall_seconds,
                    "warm_ratio": self.least.seconds / self.warm.wall_seconds,
                    "warm_replicas_per_s": self.warm.run.created / self.warm.wall_seconds,
                }
                if self.warm is not None
                else {}
            ),
        }


async def measure(args: argparse.Namespace, model: Model, settings_values: dict[str, Any]) -> Measurement:
    with tempfile.TemporaryDirectory(prefix="wcsync-bench-") as tmp_name:
        tmp = Path(tmp_name)
        names = [MAIN, *(f"sub{i}" for i in range(1, args.subs + 1))]
        fakes: list[FakeStoreProcess] = []
        try:
            for name, port in zip(names, free_ports(len(names)), strict=True):
                fakes.append(start_fake(name, port, model, tmp))
            async with httpx.AsyncClient(timeout=60) as http:
                await asyncio.gather(*(wait_ready(http, f) for f in fakes))
                seed_started = time.monotonic()
                main_ids = await seed_orders(http, fakes[0], args.orders)
                seed_seconds = time.monotonic() - seed_started
                async with scratch_database(args.database_url, tmp) as database_url:
                    settings = Settings(
                        _env_file=None,  # type: ignore[call-arg]
                        database_url=database_url,
                        # Never the working directory's wcsync.key (the default beside PostgreSQL).
                        secret_key_file=str(Path(tmp) / "wcsync.key"),
                        **settings_values,
                    )
                    return await run_passes(
                        args, model, settings, http, fakes, main_ids, seed_seconds=seed_seconds
                    )
        finally:
            stop_fakes(fakes)


async def run_passes(
    args: argparse.Namespace,
    model: Model,
    settings: Settings,
    http: httpx.AsyncClient,
    fakes: Sequence[FakeStoreProcess],
    main_ids: Sequence[int],
    *,
    seed_seconds: float,
) -> Measurement:
    peak_reset = reset_peak_rss()
    rss_before = current_rss_mib()
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        engine: SyncEngine = app.state.engine
        engine.settle_after_pass = True  # as with the scheduler on (it is off here)
        try:
            await register_stores(app.state.session_factory, fakes)
            statements = count_statements(app.state.db_engine)
            # CPU time, not wall time: a coroutine waiting on a store or the database costs nothing.
            profile = cProfile.Profile(time.process_time) if args.profile else None
            if profile:
                profile.enable()
            counted = statements[0]
            STATEMENT_KINDS.clear()
            first = await timed_pass(engine, http, fakes, args.timeout, "pass 1")
            first.statements = statements[0] - counted
            if args.sql_top:
                print(f"  pass 1's most frequent SQL statements ({first.statements} in all):")
                for text, n in STATEMENT_KINDS.most_common(args.sql_top):
                    print(f"    {n:>6}  {text}")
            if profile:
                profile.disable()
                profile.dump_stats(args.profile)
            peak = peak_rss_mib()  # before verification reads thousands of orders into this process
            # Origin notes are written after the creates, off the pass (a low-priority queue).
            notes_before = await store_stats(http, fakes)
            await engine.notes_drained(timeout=args.timeout)
            notes_seconds = max(0.0, time.monotonic() - first.finished)
            notes_after = await store_stats(http, fakes)
            notes_requests = sum(
                traffic_between(notes_before[f.name], notes_after[f.name]).requests["POST /orders/{id}/notes"]
                for f in fakes
            )
            verification = await verify_replicas(http, fakes[1:], main_ids)
            # The first sub -> main pass takes the main store's inventory (the copies already
            # there): once in a store's life, so not in the idle pass below.
            await timed_pass(engine, http, fakes, args.timeout, "first sub -> main", direction="sub_to_main")
            # The discovery the engine runs once pass 1's writes are older than the overlap.
            settle_before = await store_stats(http, fakes)
            await engine.settled(timeout=args.timeout)
            settle_after = await store_stats(http, fakes)
            settle_requests = {
                f.name: traffic_between(settle_before[f.name], settle_after[f.name]).total for f in fakes
            }
            # An idle pass right after the big one, both directions: one request per store and
            # direction at most.
            second = await timed_pass(engine, http, fakes, args.timeout, "pass 2", direction="both")
            paces = {f.name: list(engine.ctx.clients.pace_history(f.name)) for f in fakes[1:]}
            warm = None
            warm_verification: list[Verification] = []
            warm_paces: dict[str, list[tuple[float, int, int, str]]] = {}
            if getattr(args, "warm_pass", False):
                # First a trickle, as between busy hours: orders one at a time, each copied by a
                # pass of its own (one-order writes must not walk the pace down). Then as many
                # orders again as pass 1: a later busy pass of the same process, whose stores
                # keep the pace they found.
                trickle_started = time.monotonic()
                trickle_ids = []
                for _ in range(TRICKLE_ORDERS):
                    trickle_ids += await seed_orders(http, fakes[0], 1)
                    await timed_pass(engine, http, fakes, args.timeout, "trickle")
                new_ids = await seed_orders(http, fakes[0], args.orders)
                warm = await timed_pass(engine, http, fakes, args.timeout, "pass 3 (warm)")
                warm_paces = {
                    f.name: [h for h in engine.ctx.clients.pace_history(f.name) if h[0] >= trickle_started]
                    for f in fakes[1:]
                }
                warm_verification = await verify_replicas(
                    http, fakes[1:], [*main_ids, *trickle_ids, *new_ids]
                )
        except BaseException:
            # Interrupted or failed: stop a running pass now rather than after the lifespan's
            # grace period for passes to finish.
            await engine.shutdown(timeout=0)
            raise
    notes = [str(e.get("message", e)) for e in first.run.errors[:5]]
    return Measurement(
        first=first,
        second=second,
        # The pass makes the copies; origin notes come after it (see notes_seconds).
        least=least_time(args.orders, args.orders, model, notes=False),
        least_at_batch_size=least_time(
            args.orders, args.orders, model, notes=False, batch_limit=settings.batch_size
        ),
        least_with_notes=least_time(args.orders, args.orders, model, notes=True),
        notes_seconds=notes_seconds,
        notes_requests=notes_requests,
        paces=paces,
        settle_requests=settle_requests,
        verification=verification,
        peak_rss_mib=peak,
        rss_before_mib=rss_before,
        peak_reset=peak_reset,
        seed_seconds=seed_seconds,
        orders=args.orders,
        subs=args.subs,
        concurrency=model.concurrency,
        notes=notes,
        warm=warm,
        warm_verification=warm_verification,
        warm_paces=warm_paces,
    )


# --- printing -------------------------------------------------------------------------------


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  " + "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def print_least(least: LeastTime, model: Model, label: str) -> None:
    print(
        f"  {label}: per sub-store ({least.requests_per_sub} requests x {model.base_ms:g} ms"
        f" + {least.writes_per_sub} orders x {model.per_order_ms:g} ms) / {model.concurrency}"
        f" = {least.sub_seconds:.1f} s  [{least.batches_per_sub} batches of <= {least.batch_limit}"
        f" + {least.notes_per_sub} notes]; + discovery {least.discovery_pages} pages x"
        f" {model.base_ms:g} ms = {least.discovery_seconds:.1f} s; total {least.seconds:.1f} s"
    )


def print_pass(result: PassResult, model: Model, label: str, *, detail: bool) -> None:
    run = result.run
    print(
        f"{label}: {result.wall_seconds:.1f} s, run {run.id} {run.status}, created {run.created},"
        f" failed {run.failed}, skipped {run.skipped}, links {run.progress_done}/{run.progress_total},"
        f" {result.requests} requests"
    )
    rows = []
    for name, traffic in result.traffic.items():
        kinds = ", ".join(f"{kind} {n}" for kind, n in traffic.requests.most_common())
        utilisation = traffic.busy_seconds / (model.concurrency * result.wall_seconds)
        row = [name, str(traffic.total), str(traffic.orders_written), f"{traffic.busy_seconds:.1f}"]
        row += [f"{utilisation:.0%}"]
        if detail:
            row += [f"{traffic.max_in_flight}/{traffic.max_waiting}"]
        rows.append([*row, kinds or "-"])
    header = ["store", "requests", "written", "busy s", "slots busy"]
    if detail:
        header.append("max in flight/queued")
    print_table(rows, [*header, "requests by kind"])
    phases = result.phases()
    if phases:
        for what, seconds in phases:
            print(f"  {what:<42} {seconds:8.2f} s")


def print_measurement(m: Measurement, model: Model, repetition: int, repeat: int) -> None:
    title = f"repetition {repetition}/{repeat}" if repeat > 1 else "measurement"
    print(f"\n== {title} (seeding {m.orders} main orders took {m.seed_seconds:.1f} s, not timed)")
    print_pass(m.first, model, "pass 1", detail=True)
    for note in m.notes:
        print(f"  run error: {note}")
    print_least(m.least, model, "least time")
    if m.least_at_batch_size.batch_limit != m.least.batch_limit:
        print_least(m.least_at_batch_size, model, "least at the configured batch size")
    for v in m.verification:
        verdict = "ok" if v.ok and v.replicas == m.orders else "FAILED"
        print(
            f"  check {v.store}: {v.replicas} replicas of {m.orders} main orders; missing {v.missing},"
            f" duplicated {v.duplicated}, stray {v.stray}, trashed {v.trashed}: {verdict}"
        )
    for name, history in m.paces.items():
        moves = "; ".join(f"{limit} x {batch} ({why})" for _, limit, batch, why in history)
        print(f"  pace of {name} (requests at once x batch): {moves}")
    if m.notes_requests:
        print(
            f"  origin notes: {m.notes_requests} written in the {m.notes_seconds:.1f} s after the pass"
            f" (all done at {m.first.wall_seconds + m.notes_seconds:.1f} s; least with notes"
            f" {m.least_with_notes.seconds:.1f} s)"
        )
    print(
        f"  wcsync CPU during pass 1: {m.first.cpu_seconds:.2f} s,"
        f" {m.first.cpu_seconds * 1000 / max(1, m.first.run.created):.2f} ms per replica;"
        f" {m.first.statements} SQL statements,"
        f" {m.first.statements / max(1, m.first.run.created):.2f} per replica"
    )
    print(
        "  the discovery after pass 1 (once its writes are older than the overlap window): "
        + ", ".join(f"{name} {n}" for name, n in m.settle_requests.items())
        + " requests"
    )
    print_pass(m.second, model, "pass 2 (idle, both directions)", detail=False)
    if m.warm is not None:
        print_pass(
            m.warm,
            model,
            f"pass 3 (warm: after {TRICKLE_ORDERS} orders copied one at a time, {m.orders} new orders)",
            detail=True,
        )
        print(f"  least / wall of pass 3: {m.least.seconds / m.warm.wall_seconds:.3f}")
        for v in m.warm_verification:
            expected = 2 * m.orders + TRICKLE_ORDERS
            verdict = "ok" if v.ok and v.replicas == expected else "FAILED"
            print(
                f"  check {v.store} after pass 3: {v.replicas} replicas of {expected} main orders: {verdict}"
            )
        for name, history in m.warm_paces.items():
            moves = "; ".join(f"{limit} x {batch} ({why})" for _, limit, batch, why in history) or "unchanged"
            print(f"  pace of {name} during the trickle and pass 3: {moves}")
    rss = f"{m.peak_rss_mib:.1f} MiB"
    if m.rss_before_mib is not None:
        rss += f" (RSS before the pass {m.rss_before_mib:.1f} MiB)"
    if not m.peak_reset:
        rss += " (peak of the whole process: could not reset it)"
    print(f"  peak RSS during pass 1: {rss}")


def summarise(
    args: argparse.Namespace, model: Model, measurements: Sequence[Measurement], code: str
) -> dict[str, Any]:
    figures = [m.figures() for m in measurements]
    median = {key: statistics.median(f[key] for f in figures) for key in figures[0]}
    summary: dict[str, Any] = {
        "orders": args.orders,
        "subs": args.subs,
        "batch_size": args.batch_size or DEFAULT_BATCH_SIZE,
        "concurrency": model.concurrency,
        "latency_base_ms": model.base_ms,
        "latency_per_order_ms": model.per_order_ms,
        "scale": args.scale,
        "origin_note": args.origin_note,
        "database": "sqlite" if args.database_url is None else make_url(args.database_url).get_backend_name(),
        "repeat": len(measurements),
        "code": code,
    }
    counts = (
        "requests",
        "second_requests",
        "second_created",
        "max_concurrency_used",
        "second_max_requests_per_store",
    )
    for key, value in median.items():
        summary[key] = round(value) if key in counts else round(value, 3)
    summary["verified"] = all(m.verified for m in measurements)
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    repeat = summary["repeat"]
    what = f"median of {repeat} repetitions" if repeat > 1 else "one measurement"
    print(
        f"\n== wcsync replication: {summary['orders']} orders -> {summary['subs']} sub-stores,"
        f" batch {summary['batch_size']}, {summary['concurrency']} requests at a time per store,"
        f" origin notes {'on' if summary['origin_note'] else 'off'}, {summary['database']} ({what}),"
        f" code {summary['code']}"
    )
    print(
        f"   model: {summary['latency_base_ms']:g} ms + {summary['latency_per_order_ms']:g} ms x orders"
        f" written, {summary['concurrency']} at a time (scale {summary['scale']:g})"
    )
    rows = [
        ["wall time, pass 1", f"{summary['wall_s']:.1f} s"],
        ["requests sent", str(summary["requests"])],
        ["orders/s", f"{summary['orders_per_s']:.2f}  (main orders replicated to every sub-store)"],
        ["replicas/s", f"{summary['replicas_per_s']:.2f}"],
        ["peak RSS", f"{summary['peak_rss_mib']:.1f} MiB"],
        ["least time (model)", f"{summary['least_s']:.1f} s"],
        ["wall / least", f"{summary['ratio']:.2f}"],
        ["least / wall", f"{1 / summary['ratio']:.2f}  (goal >= 0.90)"],
        ["wcsync CPU per replica", f"{summary['cpu_ms_per_replica']:.2f} ms  (goal <= 1 ms at zero latency)"],
        ["SQL statements per replica", f"{summary['sql_per_replica']:.2f}"],
        ["most requests at once", f"{summary['max_concurrency_used']:.0f} per sub-store (the pace's peak)"],
        ["origin notes all written", f"{summary['notes_done_s']:.1f} s after the request"],
        [
            "pass 2",
            f"{summary['second_wall_s']:.1f} s, {summary['second_created']} created,"
            f" {summary['second_requests']} requests, at most {summary['second_max_requests_per_store']}"
            " per store (goal: 1 per store and direction)",
        ],
        ["replicas checked", "ok" if summary["verified"] else "FAILED"],
    ]
    if "vs_naive" in summary:
        rows += [
            [
                "naive replicator",
                f"{summary['naive_replicas_per_s']:.2f} replicas/s ({summary['naive_seconds']:.1f} s,"
                f" {summary['naive_requests']} requests; official client, one POST per order)",
            ],
            ["wcsync / naive", f"{summary['vs_naive']:.1f}x  (goal >= 6x)"],
        ]
    print_table(rows, ["figure", "value"])
    print(json.dumps(summary))


# --- command line ---------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/replicate.py",
        description="Time one Sync Now pass main -> sub against fake stores with a latency model.",
    )
    parser.add_argument("--orders", type=int, default=2000, help="main-store orders (default 2000)")
    parser.add_argument("--subs", type=int, default=3, help="sub-stores (default 3)")
    parser.add_argument(
        "--batch-size", type=int, default=None, help=f"Settings.batch_size (default {DEFAULT_BATCH_SIZE})"
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=2,
        help="requests at a time per store: Settings.store_max_concurrency and the fakes' limit (2)",
    )
    parser.add_argument(
        "--wcsync-concurrency",
        type=int,
        default=None,
        help="Settings.store_max_concurrency, the most the pace may use (default: Settings', 8)",
    )
    parser.add_argument(
        "--fixed-pace",
        action="store_true",
        help="no adaptive pace: --concurrency requests at once and --batch-size (the old engine's way)",
    )
    parser.add_argument("--latency-base-ms", type=float, default=90.0, help="per request (90)")
    parser.add_argument("--latency-per-order-ms", type=float, default=130.0, help="per order written (130)")
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies both latencies (e.g. 0.1)")
    parser.add_argument(
        "--origin-note",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Settings.origin_note: one note request per replica (default on)",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="a PostgreSQL server URL whose user may CREATE DATABASE: each repetition uses a fresh "
        "database there, dropped afterwards (default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--store-timeout",
        type=float,
        default=DEFAULT_STORE_TIMEOUT,
        help=f"Settings.store_timeout_seconds (default {DEFAULT_STORE_TIMEOUT:g})",
    )
    parser.add_argument("--repeat", type=int, default=1, help="measure R times, print medians (1)")
    parser.add_argument("--timeout", type=float, default=900.0, help="give up on a pass after this (900 s)")
    parser.add_argument("--log-level", default="WARNING", help="wcsync's log level (WARNING)")
    parser.add_argument("--profile", default=None, help="write a cProfile of pass 1 (CPU time) to this file")
    parser.add_argument(
        "--sql-top", type=int, default=0, help="print pass 1's N most frequent SQL statements"
    )
    parser.add_argument(
        "--warm-pass",
        action="store_true",
        help="after the idle pass, copy as many new orders again in the same process (its pace remembered)",
    )
    parser.add_argument(
        "--naive",
        action="store_true",
        help="also run the naive replicator (bench/naive.py) on the same model and print the ratio",
    )
    return parser


def check_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.orders < 1 or args.subs < 1 or args.repeat < 1:
        parser.error("--orders, --subs and --repeat must be at least 1")
    if args.concurrency < 1 or args.concurrency > 16:
        parser.error("--concurrency must be between 1 and 16 (Settings.store_max_concurrency)")
    if args.batch_size is not None and not 1 <= args.batch_size <= BATCH_LIMIT:
        parser.error(f"--batch-size must be between 1 and {BATCH_LIMIT}")
    if args.scale < 0 or args.latency_base_ms < 0 or args.latency_per_order_ms < 0:
        parser.error("latencies and --scale must not be negative")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.database_url is not None and is_sqlite(args.database_url):
        parser.error("SQLite is the default (a fresh file per repetition); --database-url is for PostgreSQL")


def model_and_settings(args: argparse.Namespace) -> tuple[Model, dict[str, Any]]:
    """The fakes' latency model and wcsync's settings for these arguments."""
    model = Model(
        base_ms=args.latency_base_ms * args.scale,
        per_order_ms=args.latency_per_order_ms * args.scale,
        concurrency=args.concurrency,
    )
    settings_values: dict[str, Any] = {
        "admin_token": "bench-admin-token-0123456789",
        "scheduler_enabled": False,
        "log_level": args.log_level,
        "store_timeout_seconds": args.store_timeout,
        "lease_seconds": max(600, int(args.store_timeout) + 60),
        "origin_note": args.origin_note,
    }
    if args.fixed_pace:
        # The first engine's way: always this many requests at once and the configured batch.
        settings_values["adaptive_pace"] = False
        settings_values["store_max_concurrency"] = args.concurrency
    elif args.wcsync_concurrency is not None:
        settings_values["store_max_concurrency"] = args.wcsync_concurrency
    if args.batch_size is not None:
        settings_values["batch_size"] = args.batch_size
    return model, settings_values


async def run(args: argparse.Namespace) -> int:
    code = code_version()  # now: the modules measured were read from disk at start-up
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM takes the same way out as Ctrl-C: cancel, so every `finally` stops its stores.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    model, settings_values = model_and_settings(args)
    measurements = []
    for repetition in range(1, args.repeat + 1):
        measurement = await measure(args, model, settings_values)
        print_measurement(measurement, model, repetition, args.repeat)
        measurements.append(measurement)
    summary = summarise(args, model, measurements, code)
    if args.naive:
        # The baseline on the same model, fresh stores: the official client, one POST per order.
        from bench.naive import measure_naive

        naive = await measure_naive(args.orders, args.subs, model)
        summary["naive_replicas_per_s"] = round(naive["replicas_per_s"], 3)
        summary["naive_seconds"] = round(naive["seconds"], 1)
        summary["naive_requests"] = naive["requests"]
        summary["vs_naive"] = round(summary["replicas_per_s"] / naive["replicas_per_s"], 2)
        summary["verified"] = summary["verified"] and naive["verified"]
    print_summary(summary)
    return 0 if summary["verified"] else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_args(parser, args)
    configure_logging(args.log_level)
    try:
        return asyncio.run(run(args))
    except BenchError as exc:
        print(f"bench/replicate.py: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench/replicate.py: interrupted; fake stores stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
