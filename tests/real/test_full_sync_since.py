"""Issue 15, 1, on the real stores: a fresh ledger over stores that already hold copies, then a
Full sync whose `since` is later than those orders (and their copies). It used to take the
copies outside its window for missing ones and make each again (43 to 422 second copies a run
on the real stores); a copy is looked for from its origin's creation, never from a window."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.real.checks import assert_faithful_copy
from tests.real.conftest import serve_wcsync
from tests.real.stores import RealStore, wc_time

pytestmark = pytest.mark.real


async def test_a_full_sync_since_a_later_date_on_a_fresh_ledger_makes_no_second_copy(
    tmp_path: Path, stores: dict[str, RealStore]
) -> None:
    (tmp_path / "earlier").mkdir()
    (tmp_path / "fresh").mkdir()
    async with serve_wcsync(tmp_path / "earlier", stores) as earlier:
        await earlier.add_all()
        order = await stores["main"].place_order([("SKU-MUG-001", 1)])
        sub_order = await stores["sub1"].place_order([("SKU-STICKER", 2)])
        run = await earlier.sync()
        assert run["status"] == "succeeded", run["errors"]
        began = earlier.started
    await asyncio.sleep(1.1)
    since = datetime.now(UTC)  # later than both orders and every copy of them
    await asyncio.sleep(1.1)
    expected = {
        f"main:{order['id']}": ("main", order["id"], ("sub1", "sub2")),
        f"sub1:{sub_order['id']}": ("sub1", sub_order["id"], ("main",)),
    }
    async with serve_wcsync(tmp_path / "fresh", stores) as wcsync:
        await wcsync.add_all()
        first = await wcsync.sync()  # its inventory takes the copies into the new ledger
        assert first["status"] == "succeeded", first["errors"]
        full = await wcsync.sync(mode="full", since=wc_time(since) + "Z")
        assert full["status"] == "succeeded", full["errors"]
        assert not full["drift"].get("replica_missing"), full["drift"]
        again = await wcsync.sync(mode="full", since=wc_time(since) + "Z")
        assert again["status"] == "succeeded", again["errors"]
        for key, (origin_store, origin_id, targets) in expected.items():
            origin = await stores[origin_store].order(origin_id)
            for target in targets:
                copies = await stores[target].replicas(key, began)
                assert len(copies) == 1, (key, target, [c["id"] for c in copies])
                assert_faithful_copy(origin, copies[0], origin_store=origin_store)
