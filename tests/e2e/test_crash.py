"""A crash mid-pass: the service runs as a subprocess, is killed while batches are in flight,
and restarted; every (order, target) ends with exactly one replica."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from app.testing.exact import assert_exact_copy
from tests.e2e.support import TOKEN, loopback, make_fake
from tests.waiting import PATIENCE, until

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_service(database_url: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WCSYNC_DATABASE_URL": database_url,
        "WCSYNC_ADMIN_TOKEN": TOKEN,
        "WCSYNC_SCHEDULER_ENABLED": "false",
        "WCSYNC_STORE_TIMEOUT_SECONDS": "3",
        "WCSYNC_LEASE_SECONDS": "4",
        "WCSYNC_BATCH_SIZE": "4",
        "WCSYNC_ORIGIN_NOTE": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )

    async def up() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"service exited: {log.read_text()[-2000:]}")
        try:
            return (await client.get(f"http://127.0.0.1:{port}/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    async with httpx.AsyncClient() as client:
        try:
            await until(up, f"`wcsync serve` to answer /healthz on port {port}")
        except AssertionError:
            process.kill()
            raise
    return process


async def test_killed_mid_pass_then_restarted_leaves_one_replica_each(
    database_url: str, tmp_path: Path
) -> None:
    main = make_fake("main")
    subs = {
        name: make_fake(name, latency_base_ms=100, latency_per_order_ms=150, max_concurrency=2)
        for name in ("sub1", "sub2")
    }
    orders = [main.place_order([("SKU-MUG-001", 1)]) for _ in range(24)]
    port = _free_port()
    log = tmp_path / "service.log"
    async with (
        loopback(main.app) as main_url,
        loopback(subs["sub1"].app) as sub1_url,
        loopback(subs["sub2"].app) as sub2_url,
    ):
        urls = {"main": main_url, "sub1": sub1_url, "sub2": sub2_url}
        process = await _start_service(database_url, port, log)
        api = httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60
        )
        try:
            for name, fake in [("main", main), *subs.items()]:
                response = await api.post(
                    "/api/stores",
                    json={
                        "name": name,
                        "role": "main" if name == "main" else "sub",
                        "base_url": urls[name],
                        "consumer_key": fake.consumer_key,
                        "consumer_secret": fake.consumer_secret,
                        "auth_mode": "basic",
                        "backfill_since": "2020-01-01T00:00:00Z",
                    },
                )
                assert response.status_code == 201, response.text
            killed_run = (await api.post("/api/sync")).json()["run_id"]
            # Kill it while batches are in flight: some creates sent, their answers not recorded.
            await until(
                lambda: sum(len(s.orders) for s in subs.values()) >= 4,
                "the first copies to reach the sub-stores",
                interval=0.02,
            )
            process.send_signal(signal.SIGKILL)
            process.wait(PATIENCE)

            process = await _start_service(database_url, port, log)
            unconfirmed = (await api.get("/api/links", params={"state": "in_flight"})).json()["total"]
            assert unconfirmed > 0  # the premise: creates whose outcome the dead process never saw
            # The dead process's run does not stay "running": the new process settles it.
            dead = (await api.get(f"/api/runs/{killed_run}")).json()
            assert dead["status"] == "failed", dead
            assert "process running this pass stopped" in dead["errors"][-1]["message"]
            # Requests the dead process left running on the stores finish on their own time;
            # the restarted service waits them out (request timeout) before it looks for them.
            await asyncio.sleep(3.5)
            run = (await api.post("/api/sync?wait=true")).json()
            assert run["status"] in ("succeeded", "partial"), run
            for name, fake in subs.items():
                for order in orders:
                    copies = fake.find_by_meta("_wcsync_origin", f"main:{order['id']}")
                    assert len(copies) == 1, (name, order["id"], len(copies))
                    assert_exact_copy(main.orders[order["id"]], copies[0], origin_store="main")
            adopted = (await api.get(f"/api/orders/main/{orders[0]['id']}")).json()
            assert all(link["state"] == "synced" for link in adopted["links"])
            again = (await api.post("/api/sync?wait=true")).json()
            assert again["counts"]["created"] == 0
            assert sum(len(s.orders) for s in subs.values()) == 48
        finally:
            await api.aclose()
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(PATIENCE)
                except subprocess.TimeoutExpired:
                    process.kill()
