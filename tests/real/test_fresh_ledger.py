"""A wcsync with an empty ledger meeting the copies another installation made on real stores
(a reinstall, a lost database; here also every test after the first, since the stores are shared).

Before its first copy to a store, wcsync takes the copies already there into its ledger (its
inventory). When such a copy is edited afterwards, wcsync makes it equal to its origin again,
though that origin was last changed before the new installation's stores were added and no
discovery pass reads it. Found on the real stores: it used to fail on every pass ("The origin
order has not been read yet; it will be on the next pass"), each run ending `partial`."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.real.checks import assert_faithful_copy
from tests.real.conftest import serve_wcsync
from tests.real.stores import RealStore

pytestmark = pytest.mark.real


async def test_a_copy_adopted_by_a_fresh_ledger_and_edited_is_made_equal_again(
    tmp_path: Path, stores: dict[str, RealStore]
) -> None:
    (tmp_path / "before").mkdir()
    (tmp_path / "after").mkdir()
    async with serve_wcsync(tmp_path / "before", stores) as earlier:
        await earlier.add_all()
        order = await stores["sub2"].place_order([("SKU-STICKER", 1)])
        run = await earlier.sync()
        assert (run["status"], run["counts"]["created"]) == ("succeeded", 1), run
        (copy,) = await stores["main"].replicas(f"sub2:{order['id']}", earlier.started)
    await asyncio.sleep(1.1)  # the reinstalled wcsync starts in a later second

    async with serve_wcsync(tmp_path / "after", stores) as wcsync:
        await wcsync.add_all()
        first = await wcsync.sync()  # takes the copy on main into the new ledger
        assert first["status"] == "succeeded", first["errors"]
        await asyncio.sleep(1.1)
        await stores["main"].update(copy["id"], customer_note="edited on the main store")
        runs = [await wcsync.sync() for _ in range(2)]
        assert [r["status"] for r in runs] == ["succeeded"] * 2, [r["errors"] for r in runs]
        failed = (await wcsync.api.get("/api/links", params={"state": "failed"})).json()
        assert failed["total"] == 0, failed["items"]
        origin = await stores["sub2"].order(order["id"])
        assert_faithful_copy(origin, await stores["main"].order(copy["id"]), origin_store="sub2")
