"""`make demo`'s stores are set up the way a store owner would: sub-stores routed by SKU, the
main store taking every order (issue 15, 3: the demo routed the main store by SKU too)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import httpx
import pytest

from app.demo import STORE_PORT_OFFSETS, build_fake_stores, store_bodies
from app.models import Routing, StoreRole
from app.sync.stores import NewStore
from tests.waiting import PATIENCE, until_sync


def test_the_demo_adds_stores_the_api_accepts_and_its_main_store_takes_every_order() -> None:
    urls = {name: f"http://127.0.0.1:{9101 + i}" for i, name in enumerate(build_fake_stores())}
    bodies = store_bodies(urls, "2026-01-01T00:00:00+00:00")
    assert [b["name"] for b in bodies] == list(urls)
    stores = [NewStore(**body) for body in bodies]  # refused (InvalidRequest) if not valid
    routing = {s.name: (s.role, s.routing) for s in stores}
    assert routing["main"] == (StoreRole.main, Routing.all)
    assert all(r == Routing.skus for role, r in routing.values() if role == StoreRole.sub)


def _free_base_port() -> int:
    """A port P with P and the demo's store ports (P+101..P+103) all free."""
    rng = random.Random()
    for _ in range(200):
        port = rng.randrange(20000, 32000)
        if all(not _taken(p) for p in (port, *(port + o for o in STORE_PORT_OFFSETS))):
            return port
    raise AssertionError("no free ports for the demo")


def _taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _start_demo(folder: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "WCSYNC_ADMIN_TOKEN": TOKEN}
    env.pop("WCSYNC_SECRET_KEY", None)
    return subprocess.Popen(
        [sys.executable, "-m", "app.cli", "demo", "--port", str(port)],
        cwd=folder,
        env={**env, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


TOKEN = "demo-test-token-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_a_second_demo_in_the_same_folder_says_one_runs_and_leaves_the_first_alone(tmp_path: Path) -> None:
    port = _free_base_port()
    first = _start_demo(tmp_path, port)
    try:
        assert first.stdout is not None
        lines: list[str] = []

        def read(stream: IO[str]) -> None:
            for line in stream:
                lines.append(line)

        reader = threading.Thread(target=read, args=(first.stdout,), daemon=True)
        reader.start()
        until_sync(
            lambda: any("wcsync demo is running" in line for line in lines) or first.poll() is not None,
            "the first demo to start",
        )
        assert first.poll() is None, "".join(lines)[-3000:]
        base = f"http://127.0.0.1:{port}"

        for second_port in (port, _free_base_port()):  # the same ports, then other ports
            second = subprocess.run(
                [sys.executable, "-m", "app.cli", "demo", "--port", str(second_port)],
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT), "WCSYNC_ADMIN_TOKEN": TOKEN},
                capture_output=True,
                text=True,
                timeout=PATIENCE,
            )
            said = second.stdout + second.stderr
            assert second.returncode != 0, said
            assert "Traceback" not in said, said
            assert said.count("\n") == 1 and "A wcsync demo already runs" in said, said
            assert f"{base}/admin" in said, said

        # The first demo still works: its database was not deleted under it.
        pending = httpx.get(f"{base}/api/pending", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60)
        assert pending.status_code == 200, pending.text
        assert pending.json()["total"] > 0  # the seeded orders, still waiting
    finally:
        first.send_signal(signal.SIGINT)
        try:
            first.wait(PATIENCE)
        except subprocess.TimeoutExpired:
            first.kill()
            first.wait()
