"""Chaos suite: randomized crash-and-fault trials, checked on the stores themselves.

Each trial serves three fake WooCommerce stores (main; sub1 routing `all`; sub2 routing `skus`,
selling all but two products) from a subprocess, and runs `wcsync serve` as one subprocess (or
two on one PostgreSQL database) with its scheduler on and short intervals. While orders are
placed, edited, moved between statuses and refunded on the origins, it injects faults at random:
5xx / 429 (with Retry-After) / HTML error pages / timeouts at a rate, a store down for a while,
orders edited while they are listed, lost replies after a create or an update, a create that
hangs after it is written, `kill -9` of a service process (restarted soon after), a store
removed and added again through the API, Sync Now and Sync Order at random moments. Half of the
stores run a clock skewed by up to ±10 minutes (either sign). One trial in three (`--fresh mix`)
then runs a second round on a fresh ledger (a new database) over the stores the first round left
holding copies, with Full syncs whose `since` is later than many of those orders (issue 15).

Then the faults stop and the service converges (Sync Now, and a Full sync of a store that was
removed and added again), bounded in time, and the invariants are checked on the stores:

- exactly one replica of every routed order on each of its targets (no duplicates, none lost);
- none of an unroutable order (a SKU the target lacks), and its failure shown in the API;
- every replica an exact copy of its origin (`app.testing.exact.copy_differences`);
- nothing pending, nothing still writing (no link `in_flight`), no other link parked.

    .venv/bin/python bench/chaos.py --trials 300 --db mix --jobs 2
    .venv/bin/python bench/chaos.py --seed 1234 --db mix       # replay one trial

Each failing trial's seed is printed (and its logs kept); `--seed S` replays it with the same
choices (the timing of a loaded machine is never quite the same). Not part of `make test`;
tests/bench/test_chaos_quick.py runs one short trial.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.testing.exact import copy_differences  # noqa: E402

TOKEN = "chaos-admin-token-0123456789abcdef"
SECRET_KEY = "Y2hhb3MtYmVuY2gtb25seS1rZXktMDEyMzQ1Njc4OTA="
PG_ROOT = os.environ.get("WCSYNC_CHAOS_PG", "postgresql://postgres@127.0.0.1:5432")
STORES = ("main", "sub1", "sub2")
MAIN_ONLY_SKU = "SKU-MAIN-ONLY"
# sub2 (routing `skus`) does not sell these: main orders holding them are partial copies there.
NOT_ON_SUB2 = ("SKU-HOODIE-L", "SKU-TSHIRT-BLUE")
SKUS = ("SKU-TSHIRT-RED", "SKU-TSHIRT-BLUE", "SKU-MUG-001", "SKU-HOODIE-L", "SKU-STICKER", "SKU-POLO-M")
SUB2_SKUS = frozenset(s for s in SKUS if s not in NOT_ON_SUB2) | {"SKU-POLO-S", "SKU-POLO-L"}
REPLICATED = frozenset({"processing", "on-hold", "completed"})
NOT_COUNTED = frozenset({"trash", "checkout-draft"})
# A failing trial's PostgreSQL database is kept for a look (WCSYNC_CHAOS_KEEP_DB=0: dropped).
KEEP_FAILED_DATABASES = os.environ.get("WCSYNC_CHAOS_KEEP_DB", "1") != "0"
FAILED_DIR = Path(tempfile.gettempdir()) / "wcsync-chaos" / "failed"
# How long a service may take to answer at start, and the trial to converge once calm: longer on
# a machine so loaded that importing wcsync takes a minute (the checks are the same).
# Deadlines on conditions, generous for a loaded machine (load 10-20 on two cores): a trial that
# converges stops waiting at once, so only a failing trial waits this long.
START_SECONDS = float(os.environ.get("WCSYNC_CHAOS_START_SECONDS", "180"))
CONVERGE_SECONDS = float(os.environ.get("WCSYNC_CHAOS_CONVERGE_SECONDS", "120"))

SERVICE_ENV = {
    "WCSYNC_ADMIN_TOKEN": TOKEN,
    "WCSYNC_SECRET_KEY": SECRET_KEY,
    "WCSYNC_SCHEDULER_ENABLED": "true",
    "WCSYNC_DISCOVER_INTERVAL_SECONDS": "2",
    "WCSYNC_REPLICATE_INTERVAL_SECONDS": "3",
    "WCSYNC_STORE_TIMEOUT_SECONDS": "2",
    "WCSYNC_LEASE_SECONDS": "4",
    "WCSYNC_BACKOFF_BASE_SECONDS": "0.2",
    "WCSYNC_BACKOFF_MAX_SECONDS": "2",
    "WCSYNC_RECONCILE_MARGIN_SECONDS": "30",
    "WCSYNC_CLOCK_MAX_AGE_SECONDS": "10",
    "WCSYNC_LOG_LEVEL": "WARNING",
}


# ---------------------------------------------------------------- what a trial is


@dataclass
class TrialConfig:
    seed: int
    db: str  # sqlite | pg
    processes: int
    quick: bool = False
    # A second round on a fresh ledger (a new database) over the stores the first round left
    # holding copies, with Full syncs whose `since` is later than many of those orders.
    fresh: bool = False

    @classmethod
    def for_seed(cls, seed: int, db: str, quick: bool = False, fresh: str = "mix") -> TrialConfig:
        """The trial's database and processes follow from its seed under `--db mix`: of every six
        seeds three run on SQLite, three on PostgreSQL, two of those with two processes. Under
        `--fresh mix`, one run of six seeds in three (every database kind alike) adds the
        fresh-ledger round."""
        if db == "mix":
            slot = seed % 6
            kind = "sqlite" if slot in (0, 2, 4) else "pg"
            processes = 2 if slot in (1, 3) else 1
        else:
            kind = db
            processes = 2 if db == "pg" and seed % 3 == 1 else 1
        again = fresh == "all" or (fresh == "mix" and (seed // 6) % 3 == 0)
        return cls(seed=seed, db=kind, processes=processes, quick=quick, fresh=again)


@dataclass
class Findings:
    """What the checker found; a trial passes when all three counters are zero."""

    duplicates: int = 0
    lost: int = 0
    violations: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    replicas_checked: int = 0

    @property
    def ok(self) -> bool:
        return self.duplicates == 0 and self.lost == 0 and not self.violations


@dataclass
class TrialResult:
    config: TrialConfig
    findings: Findings
    faults: Counter[str]
    kills: int
    removals: int
    fresh_full_syncs: int | None
    orders: int
    skew: dict[str, float]
    seconds: float
    converge_seconds: float
    error: str | None = None
    kept: str | None = None
    # The stores' orders and the ledger's answers the last check saw (for tests of the checker).
    snapshot: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    ledger: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and self.findings.ok


# ---------------------------------------------------------------- the checker (pure)


def _meta(order: Mapping[str, Any], key: str) -> Any:
    for entry in order.get("meta_data") or []:
        if isinstance(entry, Mapping) and entry.get("key") == key:
            return entry.get("value")
    return None


def expected_targets(origin_store: str, order: Mapping[str, Any]) -> dict[str, str]:
    """Where an origin order must be, and how: {target: "full" | "partial" | "unroutable"}."""
    skus = {str(i.get("sku")) for i in order.get("line_items") or [] if i.get("sku")}
    if origin_store != "main":
        return {"main": "full"}
    targets = {"sub1": "unroutable" if MAIN_ONLY_SKU in skus else "full"}
    held = skus & SUB2_SKUS
    if held:
        targets["sub2"] = "full" if held == skus else "partial"
    return targets


def check_stores(
    orders: Mapping[str, list[dict[str, Any]]],
    *,
    failed_links: Mapping[tuple[str, int, str], str],
    pending: Mapping[str, Any],
    in_flight: int,
    origin_statuses: Mapping[tuple[str, int], str] | None = None,
    never_replicated: Collection[tuple[str, int]] = (),
    earlier_ledger: Collection[tuple[str, int]] = (),
) -> Findings:
    """Compare what the stores hold with what they must hold.

    `orders` is every order of every store as the stores hold them; `failed_links` maps
    (origin store, origin order id, target) to the last error of each link parked as failed;
    `pending` is `GET /api/pending`; `in_flight` the number of links still writing;
    `origin_statuses` the status each origin order was last given on its own store (nobody sets a
    status on a replica here, so wcsync has no status to write back to an origin);
    `never_replicated` the origin orders that were never in a replicated status (never copied);
    `earlier_ledger` the origin orders a fresh ledger's window may leave out (those of the first
    round, which its ledger showed): an unroutable one need not show its failure again."""
    found = Findings()
    for (store, oid), status in (origin_statuses or {}).items():
        have = _find(orders, store, oid).get("status")
        if have != status:
            found.violations.append(
                f"{store}:{oid}: the origin's status is {have!r}, set to {status!r} on it"
            )
    copies: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for target, held in orders.items():
        for order in held:
            mark = _meta(order, "_wcsync_origin")
            if not isinstance(mark, str) or order.get("status") in NOT_COUNTED:
                continue
            origin_store, _, origin_id = mark.partition(":")
            copies.setdefault((target, origin_store, int(origin_id or 0)), []).append(order)
    expected: set[tuple[str, str, int]] = set()
    for origin_store, held in orders.items():
        for origin in held:
            if _meta(origin, "_wcsync_origin") is not None or origin.get("status") in NOT_COUNTED:
                continue
            oid = int(origin["id"])
            for target, how in expected_targets(origin_store, origin).items():
                key = (target, origin_store, oid)
                expected.add(key)
                have = copies.get(key, [])
                where = f"{origin_store}:{oid} -> {target}"
                if how == "unroutable":
                    if have:
                        found.violations.append(f"{where}: unroutable, yet {len(have)} replica(s)")
                    if (
                        origin.get("status") in REPLICATED
                        and (origin_store, oid, target) not in failed_links
                        and (origin_store, oid) not in earlier_ledger
                    ):
                        found.violations.append(f"{where}: unroutable, and no failure shown in the API")
                    continue
                if len(have) > 1:
                    found.duplicates += len(have) - 1
                    found.details.append(f"{where}: {len(have)} replicas {[c['id'] for c in have]}")
                if not have:
                    # An order that never reached a replicated status (or was refunded in full
                    # before it was read) is not copied; one in a replicated status must be.
                    if origin.get("status") in REPLICATED:
                        found.lost += 1
                        found.details.append(f"{where}: lost (status {origin.get('status')})")
                    continue
                if (origin_store, oid) in never_replicated:
                    found.violations.append(f"{where}: copied, yet never in a replicated status")
                for replica in have:
                    found.replicas_checked += 1
                    problems = copy_differences(
                        origin,
                        replica,
                        origin_store=origin_store,
                        sold=SUB2_SKUS if target == "sub2" else None,
                    )
                    if problems:
                        found.violations.append(f"{where}: replica {replica['id']} not exact: {problems}")
    for key, have in copies.items():
        if key not in expected:
            target, origin_store, oid = key
            found.violations.append(
                f"{origin_store}:{oid} -> {target}: {len(have)} replica(s) of an order that must not be there"
            )
    for (origin_store, oid, target), error in failed_links.items():
        if expected_targets(origin_store, _find(orders, origin_store, oid)).get(target) != "unroutable":
            found.violations.append(f"{origin_store}:{oid} -> {target}: parked as failed: {error}")
    if pending.get("orders") or pending.get("copies"):
        found.violations.append(f"pending: {pending.get('orders')} orders, {pending.get('copies')} copies")
    if in_flight:
        found.violations.append(f"{in_flight} link(s) still in flight")
    return found


def _find(orders: Mapping[str, list[dict[str, Any]]], store: str, oid: int) -> dict[str, Any]:
    return next((o for o in orders.get(store, []) if int(o["id"]) == oid), {})


# ---------------------------------------------------------------- processes


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


# Ports handed to trials running now (a port found free is not bound at once).
RESERVED: set[int] = set()


def free_ports(rng: random.Random, count: int) -> int:
    """The first of `count` consecutive free ports, reserved until `release_ports`."""
    for _ in range(200):
        # Below the kernel's ephemeral range (32768-60999): a port found free there may be taken
        # by an outgoing connection before the server binds it.
        base = rng.randrange(20000, 32700 - count)
        wanted = range(base, base + count)
        if not RESERVED.intersection(wanted) and all(_port_free(p) for p in wanted):
            RESERVED.update(wanted)
            return base
    raise RuntimeError("no free ports")


def release_ports(base: int, count: int) -> None:
    RESERVED.difference_update(range(base, base + count))


# Every process a trial started, so that an interrupted run leaves none behind.
CHILDREN: set[subprocess.Popen[bytes]] = set()


def _kill(process: subprocess.Popen[bytes] | None) -> None:
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(5)
    if process is not None:
        CHILDREN.discard(process)


class Service:
    """One `wcsync serve` process slot: killed and restarted on the same port."""

    def __init__(self, index: int, port: int, database_url: str, workdir: Path) -> None:
        self.index, self.port, self.database_url, self.workdir = index, port, database_url, workdir
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.ready = False

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def start(self, client: httpx.AsyncClient) -> None:
        env = {**os.environ, **SERVICE_ENV, "WCSYNC_DATABASE_URL": self.database_url}
        env.pop("WCSYNC_TEST_DATABASE_URL", None)
        log = (self.workdir / f"service{self.index}.log").open("ab")
        log.write(f"---- start {self.starts} at {datetime.now(UTC).isoformat()}\n".encode())
        log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
            cwd=self.workdir,
            env={**env, "PYTHONPATH": str(ROOT)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        CHILDREN.add(self.process)
        self.starts += 1
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"service {self.index} exited at start (see {self.workdir})")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{self.url}/healthz", timeout=2)).status_code == 200:
                    self.ready = True
                    return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"service {self.index} did not start")

    def kill(self) -> None:
        self.ready = False
        _kill(self.process)


class Fakes:
    """The three fake stores, served from one subprocess; driven through `/__fake__/`."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.workdir = port, workdir
        self.urls = {name: f"http://127.0.0.1:{port + i}" for i, name in enumerate(STORES)}
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self, client: httpx.AsyncClient) -> None:
        names = [arg for name in STORES for arg in ("--name", name)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.testing", *names, "--port", str(self.port), "--catalog", "demo"],
            cwd=ROOT,
            stdout=(self.workdir / "stores.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        CHILDREN.add(self.process)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"fake stores exited (see {self.workdir})")
            try:
                for url in self.urls.values():
                    (await client.get(f"{url}/__fake__/knobs", timeout=2)).raise_for_status()
                return
            except httpx.HTTPError:
                await asyncio.sleep(0.1)
        raise RuntimeError("fake stores did not start")

    def stop(self) -> None:
        _kill(self.process)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    async def reset(self, client: httpx.AsyncClient) -> None:
        """Back to a fresh start for the next trial: catalogue only, start-up knobs, no faults."""
        for name in STORES:
            await self.control(client, name, "POST", "/reset")

    async def control(self, client: httpx.AsyncClient, store: str, method: str, path: str, **kw: Any) -> Any:
        response = await client.request(method, f"{self.urls[store]}/__fake__{path}", timeout=60, **kw)
        response.raise_for_status()
        return response.json() if response.content else None

    async def rest(self, client: httpx.AsyncClient, store: str, method: str, path: str, **kw: Any) -> Any:
        response = await client.request(
            method, f"{self.urls[store]}/wp-json/wc/v3{path}", auth=("ck_test", "cs_test"), timeout=60, **kw
        )
        response.raise_for_status()
        return response.json()


# ---------------------------------------------------------------- databases


async def _pg_admin(statement: str) -> None:
    """One statement on the server's `postgres` database (CREATE / DROP DATABASE)."""
    import asyncpg

    connection = await asyncpg.connect(f"{PG_ROOT}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def create_pg_database(name: str) -> str:
    await _pg_admin(f'CREATE DATABASE "{name}"')
    return f"postgresql+asyncpg://{PG_ROOT.split('://', 1)[1]}/{name}"


async def drop_pg_database(name: str) -> None:
    await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- one trial


class Trial:
    def __init__(self, config: TrialConfig, keep_all: bool = False) -> None:
        self.config = config
        self.rng = random.Random(config.seed)
        self.keep_all = keep_all
        self.workdir = Path(tempfile.mkdtemp(prefix=f"wcsync-chaos-{config.seed}-"))
        self.kills = 0
        self.removals = 0
        self.orders_placed = 0
        self.faults: Counter[str] = Counter()
        self.skew: dict[str, float] = {}
        self.services: list[Service] = []
        self.removed: set[str] = set()
        self.readded: set[str] = set()
        self.store_bodies: dict[str, dict[str, Any]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.started_at = datetime.now(UTC)
        self.pg_name: str | None = None
        self.earlier_pg_names: list[str] = []  # the first round's, on a fresh-ledger trial
        self.full_syncs = 0  # Full syncs with `since` asked for on the fresh ledger
        self.full_since: list[str] = []
        self.converge_seconds = 0.0
        self.earlier_ledger: set[tuple[str, int]] = set()
        self.snapshot: dict[str, list[dict[str, Any]]] = {}
        self.origin_statuses: dict[tuple[str, int], str] = {}
        self.never_replicated: set[tuple[str, int]] = set()
        self.ledger: dict[str, Any] = {}

    # -- helpers

    def log(self, line: str) -> None:
        with (self.workdir / "trial.log").open("a") as handle:
            handle.write(f"{time.monotonic():.2f} {line}\n")

    def live_service(self) -> Service | None:
        live = [s for s in self.services if s.alive]
        # Not the trial's generator: which processes are up depends on timing.
        return random.choice(live) if live else None

    async def api(
        self, client: httpx.AsyncClient, method: str, path: str, **kw: Any
    ) -> httpx.Response | None:
        """A call to any live service process; None when none answers (it may be killed)."""
        service = self.live_service()
        if service is None:
            return None
        try:
            return await client.request(
                method,
                f"{service.url}/api{path}",
                headers={"Authorization": f"Bearer {TOKEN}"},
                timeout=kw.pop("timeout", 10),
                **kw,
            )
        except httpx.HTTPError as exc:
            self.log(f"api {method} {path}: {exc!r}")
            return None

    def spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    # -- the trial

    async def run(self, shared: Fakes | None = None) -> TrialResult:
        """One trial; `shared` is a fake-store process reset for it instead of one of its own."""
        begun = time.monotonic()
        converge = 0.0
        error: str | None = None
        findings = Findings()
        fakes: Fakes | None = shared
        ports = 0
        try:
            async with httpx.AsyncClient() as client:
                ports = free_ports(random.Random(), len(STORES) + self.config.processes)
                own = fakes is None
                if fakes is None:
                    fakes = Fakes(ports, self.workdir)
                database_url = await self.database()
                self.services = [
                    Service(i, ports + len(STORES) + i, database_url, self.workdir)
                    for i in range(self.config.processes)
                ]
                # The stores and the first process start together (the second one after the
                # first has migrated the database).
                await asyncio.gather(
                    fakes.start(client) if own else fakes.reset(client), self.services[0].start(client)
                )
                await self.setup_stores(client, fakes)
                for service in self.services[1:]:
                    await service.start(client)
                for name in STORES:
                    await self.add_store(client, name)
                # The floor's second is ambiguous (whole-second dates): orders come after it.
                await asyncio.sleep(1.2)
                await self.chaos(client, fakes)
                calm = time.monotonic()
                findings = await self.converge(client, fakes)
                converge = time.monotonic() - calm
                if self.config.fresh and findings.ok:
                    findings = await self.fresh_ledger(client, fakes)
                    converge += self.converge_seconds
                for name in STORES:
                    stats = await fakes.control(client, name, "GET", "/stats")
                    self.faults.update(stats["faults"])
        except Exception as exc:  # a trial that cannot run is reported, never hidden
            error = f"{type(exc).__name__}: {exc}"
            self.log(f"error {error}")
        finally:
            for task in list(self.tasks):
                task.cancel()
            await asyncio.gather(*list(self.tasks), return_exceptions=True)
            for service in self.services:
                service.kill()
            if fakes is not None and shared is None:
                fakes.stop()
            if ports:
                release_ports(ports, len(STORES) + self.config.processes)
            for name in [*self.earlier_pg_names, *([self.pg_name] if self.pg_name else [])]:
                if error is None and (findings.ok or not KEEP_FAILED_DATABASES):
                    with contextlib.suppress(Exception):
                        await drop_pg_database(name)
                else:
                    self.log(f"database kept: {name}")
        result = TrialResult(
            config=self.config,
            findings=findings,
            faults=self.faults,
            kills=self.kills,
            removals=self.removals,
            fresh_full_syncs=self.full_syncs if self.config.fresh else None,
            orders=self.orders_placed,
            skew=self.skew,
            seconds=time.monotonic() - begun,
            converge_seconds=converge,
            error=error,
            snapshot=self.snapshot,
            ledger=self.ledger,
        )
        self.finish(result)
        return result

    def finish(self, result: TrialResult) -> None:
        if result.ok and not self.keep_all:
            shutil.rmtree(self.workdir, ignore_errors=True)
            return
        (self.workdir / "findings.json").write_text(
            json.dumps(
                {
                    "seed": self.config.seed,
                    "db": self.config.db,
                    "processes": self.config.processes,
                    "error": result.error,
                    "duplicates": result.findings.duplicates,
                    "lost": result.findings.lost,
                    "violations": result.findings.violations,
                    "details": result.findings.details,
                },
                indent=2,
            )
        )
        FAILED_DIR.mkdir(parents=True, exist_ok=True)
        kept = FAILED_DIR / f"seed-{self.config.seed}"
        shutil.rmtree(kept, ignore_errors=True)
        shutil.move(str(self.workdir), kept)
        result.kept = str(kept)

    async def database(self) -> str:
        if self.config.db == "sqlite":
            name = "wcsync.db" if not self.earlier_pg_names and not self.full_since else "wcsync-fresh.db"
            return f"sqlite+aiosqlite:///{self.workdir / name}"
        self.pg_name = f"chaos_{os.getpid()}_{self.config.seed}_{random.randrange(10**6)}"
        return await create_pg_database(self.pg_name)

    async def setup_stores(self, client: httpx.AsyncClient, fakes: Fakes) -> None:
        rng = self.rng
        skewed = rng.sample(STORES, rng.choice((1, 2)))  # half the stores on average
        for name in STORES:
            knobs: dict[str, Any] = {
                "seed": rng.randrange(10**9),
                "hang_seconds": 3.0,
                "retry_after_seconds": 1,
                "wc_version": rng.choice(("7.8", "10.6")),
            }
            if name in skewed:
                knobs["clock_skew_seconds"] = rng.choice((-1, 1)) * rng.uniform(20, 600)
                self.skew[name] = round(knobs["clock_skew_seconds"])
            await fakes.control(client, name, "PUT", "/knobs", json=knobs)
        with contextlib.suppress(httpx.HTTPStatusError):  # a reused store keeps it (409)
            await fakes.control(
                client,
                "main",
                "POST",
                "/products",
                json={"sku": MAIN_ONLY_SKU, "name": "Main only", "price": "7.00"},
            )
        for sku in NOT_ON_SUB2:
            (product,) = await fakes.rest(client, "sub2", "GET", "/products", params={"sku": sku})
            await fakes.rest(client, "sub2", "DELETE", f"/products/{product['id']}", params={"force": "true"})
        self.store_bodies = {
            name: {
                "name": name,
                "role": "main" if name == "main" else "sub",
                "base_url": fakes.urls[name],
                "consumer_key": "ck_test",
                "consumer_secret": "cs_test",
                "auth_mode": "basic",
                "routing": "skus" if name == "sub2" else "all",
            }
            for name in STORES
        }

    async def add_store(self, client: httpx.AsyncClient, name: str, *, attempts: int = 60) -> None:
        for _ in range(attempts):
            response = await self.api(client, "POST", "/stores", json=self.store_bodies[name])
            if response is not None and response.status_code == 201:
                self.log(f"store.added {name}")
                return
            if response is not None and response.status_code == 409:
                return  # added by a call whose reply was lost
            await asyncio.sleep(0.25)
        raise RuntimeError(f"could not add store {name}")

    # -- the fresh-ledger round

    async def fresh_ledger(self, client: httpx.AsyncClient, fakes: Fakes) -> Findings:
        """A new ledger (a new database) over the stores the first round left holding copies:
        the stores are added again, orders keep coming, and Full syncs are asked for with a
        `since` later than many of the orders already copied (and their copies), while the
        first round's faults and kills go on. No copy may be made twice."""
        rng = self.rng
        first_began, first_ended = self.started_at, datetime.now(UTC)
        for service in self.services:
            service.kill()
        self.earlier_ledger = {
            (store, int(order["id"]))
            for store, held in self.snapshot.items()
            for order in held
            if _meta(order, "_wcsync_origin") is None
        }
        if self.pg_name:
            self.earlier_pg_names.append(self.pg_name)
        # Later than some of the first round's orders, or than all of them.
        span = (first_ended - first_began).total_seconds()
        self.full_since = [
            (first_began + timedelta(seconds=rng.uniform(0.3, 0.9) * span)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            first_ended.strftime("%Y-%m-%dT%H:%M:%SZ"),
        ]
        database_url = await self.database()
        self.log(f"fresh ledger {database_url.rsplit('/', 1)[-1]} since={self.full_since}")
        for service in self.services:
            service.database_url = database_url
        await self.services[0].start(client)
        for service in self.services[1:]:
            await service.start(client)
        self.removed, self.readded = set(), set()
        for name in STORES:
            await self.add_store(client, name)
        await asyncio.sleep(1.2)
        for _ in range(rng.choice((1, 2))):
            self.spawn(self.full_sync_later(client, rng.uniform(0.0, 3.0), rng.choice(self.full_since)))
        await self.chaos(client, fakes)
        calm = time.monotonic()
        findings = await self.converge(client, fakes)
        self.converge_seconds = time.monotonic() - calm
        return findings

    async def full_sync_later(self, client: httpx.AsyncClient, delay: float, since: str) -> None:
        await asyncio.sleep(delay)
        response = await self.api(client, "POST", "/sync", json={"mode": "full", "since": since})
        self.full_syncs += 1
        self.log(f"full sync since {since}: {response.status_code if response else None}")

    # -- the chaos window

    async def chaos(self, client: httpx.AsyncClient, fakes: Fakes) -> None:
        rng = self.rng
        quick = self.config.quick
        book: dict[str, list[dict[str, Any]]] = {name: [] for name in STORES}
        for name in STORES:
            for _ in range(1 if quick else 2):
                await self.place(client, fakes, book, name)
        window = rng.uniform(3.0, 4.0) if quick else rng.uniform(4.0, 6.0)
        end = time.monotonic() + window
        start = time.monotonic()
        # A storm on some stores for most of the window; more come and go below.
        for store in STORES:
            if rng.random() < 0.5:
                kind = rng.choice(("fail_5xx_rate", "fail_429_rate", "html_200_rate", "timeout_rate"))
                rate = rng.uniform(0.1, 0.3) if kind != "timeout_rate" else rng.uniform(0.05, 0.15)
                await fakes.control(client, store, "PUT", "/knobs", json={kind: rate})
                self.spawn(self.later(rng.uniform(window / 2, window), fakes, client, store, {kind: 0.0}))
        # kill -9 and store removals at random moments of the window, planned up front.
        plan = [
            (start + rng.uniform(0.3, window - 1.0), "kill")
            for _ in range(1 if quick else rng.choice((1, 2)))
        ]
        if not quick and rng.random() < 0.5:
            plan.append((start + rng.uniform(0.5, window - 2.0), "remove"))
        plan.sort()
        actions = [
            ("place", 5),
            ("edit", 3),
            ("status", 2),
            ("refund", 2),
            ("fault_rate", 4),
            ("fault_once", 4),
            ("down", 1),
            ("edit_while_listing", 1),
            ("sync_now", 3),
            ("sync_order", 1),
        ]
        names, weights = zip(*actions, strict=True)
        while time.monotonic() < end:
            action = rng.choices(names, weights)[0]
            if plan and time.monotonic() >= plan[0][0]:
                action = plan.pop(0)[1]
            try:
                if action == "place":
                    await self.place(client, fakes, book, rng.choice(STORES))
                elif action == "edit":
                    await self.edit(client, fakes, book)
                elif action == "status":
                    await self.change_status(client, fakes, book)
                elif action == "refund":
                    await self.refund(client, fakes, book)
                elif action == "fault_rate":
                    store = rng.choice(STORES)
                    kind = rng.choice(("fail_5xx_rate", "fail_429_rate", "html_200_rate", "timeout_rate"))
                    rate = rng.uniform(0.1, 0.4) if kind != "timeout_rate" else rng.uniform(0.05, 0.2)
                    await fakes.control(client, store, "PUT", "/knobs", json={kind: rate})
                    self.spawn(
                        self.later(
                            rng.uniform(1.5, 4.0),
                            fakes,
                            client,
                            store,
                            {kind: 0.0},
                        )
                    )
                elif action == "fault_once":
                    store = rng.choice(STORES)
                    kind = rng.choice(
                        ("drop_after_create", "drop_after_write", "timeout_after_create", "5xx")
                    )
                    await fakes.control(client, store, "POST", "/fail_next", json={"kind": kind})
                elif action == "down":
                    store = rng.choice(STORES)
                    await fakes.control(client, store, "PUT", "/knobs", json={"down": True})
                    self.spawn(
                        self.later(
                            rng.uniform(1.0, 3.0),
                            fakes,
                            client,
                            store,
                            {"down": False},
                        )
                    )
                elif action == "edit_while_listing":
                    store = rng.choice(STORES)
                    await fakes.control(client, store, "PUT", "/knobs", json={"edit_while_listing": 1})
                    self.spawn(
                        self.later(
                            rng.uniform(1.0, 3.0),
                            fakes,
                            client,
                            store,
                            {"edit_while_listing": 0},
                        )
                    )
                elif action == "kill":
                    await self.kill_one(client)
                elif action == "sync_now":
                    await self.api(client, "POST", "/sync", json={}, timeout=3)
                elif action == "sync_order":
                    store = rng.choice(STORES)
                    if book[store]:
                        order = rng.choice(book[store])
                        await self.api(client, "POST", f"/orders/{store}/{order['id']}/sync", timeout=5)
                elif action == "remove":
                    await self.remove_and_readd(client)
            except httpx.HTTPError as exc:
                self.log(f"action {action}: {exc!r}")
            await asyncio.sleep(rng.uniform(0.1, 0.4))

    async def later(
        self, delay: float, fakes: Fakes, client: httpx.AsyncClient, store: str, knobs: dict[str, Any]
    ) -> None:
        """Set a store's knobs back after a while (the fault window of one kind)."""
        await asyncio.sleep(delay)
        try:
            await fakes.control(client, store, "PUT", "/knobs", json=knobs)
        except httpx.HTTPError as exc:
            self.log(f"later: {exc!r}")

    async def place(
        self, client: httpx.AsyncClient, fakes: Fakes, book: dict[str, list[dict[str, Any]]], store: str
    ) -> None:
        rng = self.rng
        pool = list(SKUS) + ([MAIN_ONLY_SKU] if store == "main" else [])
        if store == "sub2":
            pool = [s for s in pool if s not in NOT_ON_SUB2]
        lines = [(sku, rng.randint(1, 3)) for sku in rng.sample(pool, rng.randint(1, 3))]
        status = "pending" if rng.random() < 0.15 else rng.choice(("processing", "processing", "on-hold"))
        order = await fakes.control(
            client,
            store,
            "POST",
            "/orders",
            json={
                "items": [{"sku": s, "quantity": q} for s, q in lines],
                "status": status,
                "customer_note": rng.choice(("", "leave at the door")),
                "meta": {"gift": "yes"} if rng.random() < 0.3 else None,
            },
        )
        book[store].append(order)
        self.origin_statuses[(store, order["id"])] = status
        if status not in REPLICATED:
            self.never_replicated.add((store, order["id"]))
        self.orders_placed += 1
        self.log(f"order.placed {store}:{order['id']} {status} {lines}")

    def pick(self, book: dict[str, list[dict[str, Any]]]) -> tuple[str, dict[str, Any]] | None:
        choices = [(s, o) for s, orders in book.items() for o in orders]
        return self.rng.choice(choices) if choices else None

    async def edit(
        self, client: httpx.AsyncClient, fakes: Fakes, book: dict[str, list[dict[str, Any]]]
    ) -> None:
        picked = self.pick(book)
        if picked is None:
            return
        store, order = picked
        change = self.rng.choice(
            (
                {"customer_note": f"note {self.rng.randrange(1000)}"},
                {"billing": {"city": self.rng.choice(("Lyon", "Gent", "Porto"))}},
                {"shipping": {"address_1": f"{self.rng.randrange(99)} Main Street"}},
                {"meta": {"delivery_slot": self.rng.choice(("am", "pm"))}},
            )
        )
        await fakes.control(client, store, "PATCH", f"/orders/{order['id']}", json=change)
        self.log(f"order.edited {store}:{order['id']} {change}")

    async def change_status(
        self, client: httpx.AsyncClient, fakes: Fakes, book: dict[str, list[dict[str, Any]]]
    ) -> None:
        picked = self.pick(book)
        if picked is None:
            return
        store, order = picked
        current = await self._current(client, fakes, store, order["id"])
        if current is None or current["status"] not in REPLICATED | {"pending", "refunded"}:
            return
        # Statuses move within the replicated ones (a refund in full leaves them; an admin may
        # set a refunded order back to one).
        new = self.rng.choice(sorted(REPLICATED - {current["status"]}))
        await fakes.control(client, store, "PATCH", f"/orders/{order['id']}", json={"status": new})
        self.origin_statuses[(store, order["id"])] = new
        self.never_replicated.discard((store, order["id"]))
        self.log(f"order.status {store}:{order['id']} {current['status']} -> {new}")

    async def _current(
        self, client: httpx.AsyncClient, fakes: Fakes, store: str, oid: int
    ) -> dict[str, Any] | None:
        orders = await fakes.control(client, store, "GET", "/orders")
        return next((o for o in orders if o["id"] == oid), None)

    async def refund(
        self, client: httpx.AsyncClient, fakes: Fakes, book: dict[str, list[dict[str, Any]]]
    ) -> None:
        picked = self.pick(book)
        if picked is None:
            return
        store, order = picked
        current = await self._current(client, fakes, store, order["id"])
        if current is None or current["status"] not in REPLICATED:
            return
        total = Decimal(current["total"])
        refunded = sum((abs(Decimal(r["total"])) for r in current.get("refunds") or []), Decimal(0))
        left = total - refunded
        if left <= 0:
            return
        kind = self.rng.choice(("amount", "line", "full"))
        if kind == "full":
            # A refund in full takes the order out of the replicated statuses: only once wcsync
            # has linked it, or it would (rightly) never be copied.
            response = await self.api(client, "GET", f"/orders/{store}/{order['id']}")
            if response is None or response.status_code != 200 or not response.json()["links"]:
                return
            body: dict[str, Any] = {"amount": str(left), "reason": "all back"}
        elif kind == "line":
            line = self.rng.choice(current["line_items"])
            price = (Decimal(line["total"]) / int(line["quantity"])).quantize(Decimal("0.01"))
            if price > left or price <= 0:
                return
            body = {
                "reason": "one back",
                "line_items": [{"id": line["id"], "quantity": 1, "refund_total": str(price)}],
            }
        else:
            amount = min(left, Decimal(self.rng.choice(("1.00", "2.50", "5.00"))))
            body = {"amount": str(amount), "reason": "goodwill"}
        try:
            await fakes.control(client, store, "POST", f"/orders/{order['id']}/refunds", json=body)
            self.log(f"order.refunded {store}:{order['id']} {kind} {body}")
            # A refund of what was left makes the order `refunded` on its own store.
            after = await self._current(client, fakes, store, order["id"])
            if after is not None:
                self.origin_statuses[(store, order["id"])] = after["status"]
        except httpx.HTTPStatusError as exc:
            self.log(f"refund refused {store}:{order['id']} {body}: {exc.response.text}")

    async def kill_one(self, client: httpx.AsyncClient) -> None:
        live = [s for s in self.services if s.alive and s.ready]
        if not live:
            return
        victim = self.rng.choice(live)
        victim.kill()
        self.kills += 1
        self.log(f"kill -9 service{victim.index}")
        self.spawn(self.restart(client, victim, self.rng.uniform(0.3, 1.5)))

    async def restart(self, client: httpx.AsyncClient, service: Service, delay: float) -> None:
        await asyncio.sleep(delay)
        for _ in range(3):
            if service.alive:
                return
            try:
                await service.start(client)
                self.log(f"restarted service{service.index}")
            except RuntimeError as exc:
                self.log(f"restart failed: {exc}")
                service.kill()

    async def remove_and_readd(self, client: httpx.AsyncClient) -> None:
        name = self.rng.choice(("sub1", "sub2"))
        if name in self.removed:
            return
        response = await self.api(client, "DELETE", f"/stores/{name}")
        if response is None or response.status_code not in (204, 404):
            return
        self.removed.add(name)
        self.readded.add(name)
        self.removals += 1
        self.log(f"store.removed {name}")
        self.spawn(self.readd(client, name, self.rng.uniform(0.5, 2.0)))

    async def readd(self, client: httpx.AsyncClient, name: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await self.add_store(client, name)
        self.removed.discard(name)

    # -- convergence and the check

    async def calm(self, client: httpx.AsyncClient, fakes: Fakes) -> None:
        """Stop every fault; every service process up, every store back."""
        for task in list(self.tasks):
            if not task.get_coro().__qualname__.startswith(("Trial.restart", "Trial.readd")):  # type: ignore[union-attr]
                task.cancel()
        for name in STORES:
            await fakes.control(
                client,
                name,
                "PUT",
                "/knobs",
                json={
                    "fail_5xx_rate": 0.0,
                    "fail_429_rate": 0.0,
                    "html_200_rate": 0.0,
                    "timeout_rate": 0.0,
                    "down": False,
                    "edit_while_listing": 0,
                },
            )
            await fakes.control(client, name, "DELETE", "/fail_next")
        await asyncio.gather(*list(self.tasks), return_exceptions=True)
        for service in self.services:
            if not service.alive:
                await service.start(client)
        for name in sorted(self.removed):
            await self.add_store(client, name)
            self.removed.discard(name)

    async def converge(self, client: httpx.AsyncClient, fakes: Fakes) -> Findings:
        await self.calm(client, fakes)
        self.log("calm")
        for name in sorted(self.readded):
            # Orders placed while a store was away reach it by a Full sync of that store.
            since = (self.started_at - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ")
            response = await self.api(
                client,
                "POST",
                "/sync?wait=true",
                json={"mode": "full", "store": name, "since": since},
                timeout=60,
            )
            self.log(f"full sync {name}: {response.status_code if response else None}")
        for since in self.full_since:
            # On the fresh ledger: Full syncs from a moment later than the first round's orders.
            response = await self.api(
                client, "POST", "/sync?wait=true", json={"mode": "full", "since": since}, timeout=60
            )
            self.full_syncs += 1
            self.log(f"full sync since {since}: {response.status_code if response else None}")
        deadline = time.monotonic() + CONVERGE_SECONDS
        findings = Findings()
        while True:
            response = await self.api(client, "POST", "/sync?wait=true", json={}, timeout=60)
            if response is not None:
                run = response.json()
                self.log(f"sync now {response.status_code} {run.get('status')} {run.get('counts')}")
            findings = await self.check(client, fakes)
            if findings.ok or time.monotonic() > deadline:
                return findings
            await asyncio.sleep(1.0)

    async def check(self, client: httpx.AsyncClient, fakes: Fakes) -> Findings:
        orders = {name: await fakes.control(client, name, "GET", "/orders") for name in STORES}
        pending = await self._api_json(client, "GET", "/pending")
        failed: dict[tuple[str, int, str], str] = {}
        in_flight = 0
        for state in ("failed", "in_flight"):
            links: list[dict[str, Any]] = []
            params: dict[str, Any] = {"state": state, "limit": 200}
            while True:  # keyset pages, 200 at most
                page = await self._api_json(client, "GET", "/links", params=params)
                links.extend(page["items"])
                if page.get("next_before") is None:
                    break
                params["before"] = page["next_before"]
            for link in links:
                if state == "in_flight":
                    in_flight += 1
                else:
                    key = (link["origin"]["store"], int(link["origin"]["order_id"]), link["target"]["store"])
                    failed[key] = f"{link['last_error_code']}: {link['last_error']}"
        self.snapshot = orders
        self.ledger = {
            "failed_links": failed,
            "pending": pending,
            "in_flight": in_flight,
            "origin_statuses": dict(self.origin_statuses),
            "never_replicated": set(self.never_replicated),
            "earlier_ledger": set(self.earlier_ledger),
        }
        findings = check_stores(orders, **self.ledger)
        self.log(f"check dup={findings.duplicates} lost={findings.lost} violations={findings.violations}")
        return findings

    async def _api_json(self, client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Any:
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            response = await self.api(client, method, path, **kw)
            if response is not None and response.status_code == 200:
                return response.json()
            await asyncio.sleep(0.25)
        raise RuntimeError(f"the API did not answer {method} {path} in {START_SECONDS:.0f} s")


# ---------------------------------------------------------------- many trials


async def run_trial(config: TrialConfig, keep_all: bool = False, fakes: Fakes | None = None) -> TrialResult:
    return await Trial(config, keep_all=keep_all).run(fakes)


def describe(result: TrialResult) -> str:
    c, f = result.config, result.findings
    skew = ",".join(f"{k}:{v:+.0f}" for k, v in sorted(result.skew.items())) or "-"
    faults = ",".join(f"{k}:{v}" for k, v in sorted(result.faults.items())) or "-"
    verdict = "ok" if result.ok else "FAIL"
    line = (
        f"seed={c.seed} db={c.db} procs={c.processes} skew={skew} orders={result.orders} "
        f"kills={result.kills} "
        + ("" if result.fresh_full_syncs is None else f"fresh_ledger_full_syncs={result.fresh_full_syncs} ")
        + f"removed={result.removals} faults={faults} dup={f.duplicates} lost={f.lost} "
        f"violations={len(f.violations)} {result.seconds:.1f}s (converged in {result.converge_seconds:.1f}s) "
        f"{verdict}"
    )
    if result.error:
        line += f" error={result.error}"
    if not result.ok:
        for detail in (f.details + f.violations)[:8]:
            line += f"\n    {detail}"
        if result.kept:
            line += f"\n    logs: {result.kept}"
    return line


def summary(results: list[TrialResult], wall: float, command: str) -> str:
    faults: Counter[str] = Counter()
    for r in results:
        faults.update(r.faults)
    failing = [r.config.seed for r in results if not r.ok]
    times = [r.seconds for r in results]
    lines = [
        f"command: {command}",
        f"trials: {len(results)} in {wall / 60:.1f} min "
        f"(sqlite {sum(r.config.db == 'sqlite' for r in results)}, "
        f"postgresql {sum(r.config.db == 'pg' for r in results)}, "
        f"two processes {sum(r.config.processes == 2 for r in results)}); "
        f"median trial {statistics.median(times) if times else 0:.1f} s",
        f"stores skewed: {sum(len(r.skew) for r in results)} of {len(STORES) * len(results)} "
        f"(up to ±{max((abs(v) for r in results for v in r.skew.values()), default=0):.0f} s)",
        f"orders placed: {sum(r.orders for r in results)}; replicas checked: "
        f"{sum(r.findings.replicas_checked for r in results)}",
        "faults by kind: " + (", ".join(f"{k} {v}" for k, v in sorted(faults.items())) or "none"),
        f"kill -9: {sum(r.kills for r in results)}; stores removed and re-added: "
        f"{sum(r.removals for r in results)}",
        f"fresh-ledger trials: {sum(r.fresh_full_syncs is not None for r in results)} "
        f"(Full syncs with since: {sum(r.fresh_full_syncs or 0 for r in results)})",
        f"duplicates: {sum(r.findings.duplicates for r in results)}",
        f"lost: {sum(r.findings.lost for r in results)}",
        f"violations: {sum(len(r.findings.violations) for r in results)}",
        f"trials that could not run: {sum(r.error is not None for r in results)}",
        "failing seeds: " + (" ".join(str(s) for s in failing) or "none"),
    ]
    return "\n".join(lines)


async def run_many(configs: list[TrialConfig], jobs: int, keep_all: bool) -> list[TrialResult]:
    queue: asyncio.Queue[TrialConfig] = asyncio.Queue()
    for config in configs:
        queue.put_nowait(config)
    results: list[TrialResult] = []

    async def worker() -> None:
        # Each worker keeps one fake-store process, reset between its trials (a start less each).
        workdir = Path(tempfile.mkdtemp(prefix="wcsync-chaos-stores-"))
        fakes: Fakes | None = None
        try:
            while not queue.empty():
                config = queue.get_nowait()
                if fakes is None or not fakes.alive:
                    if fakes is not None:
                        fakes.stop()
                    fakes = Fakes(free_ports(random.Random(), len(STORES)), workdir)
                    async with httpx.AsyncClient() as client:
                        await fakes.start(client)
                result = await run_trial(config, keep_all=keep_all, fakes=fakes)
                results.append(result)
                print(f"[{len(results)}/{len(configs)}] {describe(result)}", flush=True)
        finally:
            if fakes is not None:
                fakes.stop()
            shutil.rmtree(workdir, ignore_errors=True)

    await asyncio.gather(*(worker() for _ in range(jobs)))
    return results


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # the trials' clean-up runs, then every process left is killed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument(
        "--seed", type=int, default=None, help="replay this one trial (or the first of --trials)"
    )
    parser.add_argument("--db", choices=("sqlite", "pg", "mix"), default="mix")
    parser.add_argument("--jobs", type=int, default=1, help="trials at once (distinct ports and databases)")
    parser.add_argument(
        "--quick", action="store_true", help="short trials: fewer orders, a 3-4 s fault window"
    )
    parser.add_argument("--keep", action="store_true", help="keep every trial's logs, not only failing ones")
    parser.add_argument(
        "--fresh",
        choices=("none", "mix", "all"),
        default="mix",
        help="trials with a second round on a fresh ledger and Full syncs with since",
    )
    args = parser.parse_args(argv)
    if args.seed is not None and "--trials" not in (argv if argv is not None else sys.argv):
        seeds = [args.seed]
    else:
        first = args.seed if args.seed is not None else random.randrange(10**6)
        seeds = [first + i for i in range(args.trials)]
    configs = [TrialConfig.for_seed(seed, args.db, quick=args.quick, fresh=args.fresh) for seed in seeds]
    command = "bench/chaos.py " + " ".join(argv if argv is not None else sys.argv[1:])
    begun = time.monotonic()
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        results = asyncio.run(run_many(configs, max(1, args.jobs), args.keep))
    finally:
        for child in list(CHILDREN):
            _kill(child)
    print(summary(results, time.monotonic() - begun, command), flush=True)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
