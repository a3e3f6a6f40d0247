"""Edits WooCommerce's posts storage hides, on the real stores: on main (7.8.2, posts) a line item
saved in the order screen's items box (wc_save_order_items, what its AJAX save calls) and REST
edits of lines, addresses and meta keep the order's `date_modified`, so no discovery pass meets
them; on HPOS (sub1) the same edits move it. Such an edit still reaches both copies, with no
person: through the rolling content check without the wcsync-admin plugin, and through the
plugin moving the date where it runs. Each copy is read back and compared (content, not a
count)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.db import session_scope
from app.models import Store
from app.sync import repository as repo
from app.sync.runs.content_check import ContentCheck
from tests.real.checks import assert_faithful_copy
from tests.real.conftest import Wcsync, assert_run_ok
from tests.real.harness import StoreInfo
from tests.real.stores import RealStore
from tests.real.wordpress import install_plugin, remove_plugin, toggle_plugin

pytestmark = pytest.mark.real

TICK = 1.1
SAVE_ITEMS = Path(__file__).resolve().parent / "save_order_items.php"


async def save_items(store: RealStore, order: dict[str, Any], quantity: int) -> dict[str, Any]:
    """The items box's Save on the order's first line: a new quantity at the same unit price."""
    line = order["line_items"][0]
    item = str(line["id"])
    total = f"{float(line['price']) * quantity:.2f}"
    form = {
        "order_item_id": [line["id"]],
        "order_item_qty": {item: str(quantity)},
        "line_subtotal": {item: total},
        "line_total": {item: total},
    }
    info = store.info
    result = await asyncio.to_thread(
        subprocess.run,
        ["php", str(SAVE_ITEMS), str(info.site), info.base_url, str(order["id"]), json.dumps(form)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    saved: dict[str, Any] = json.loads(result.stdout)
    return saved


async def copies(wcsync: Wcsync, origin_id: int) -> dict[str, dict[str, Any]]:
    found = {}
    for name in ("sub1", "sub2"):
        (copy,) = await wcsync.stores[name].replicas(f"main:{origin_id}", wcsync.started)
        found[name] = copy
    return found


async def replicated(wcsync: Wcsync) -> dict[str, Any]:
    await wcsync.add_all()
    order = await wcsync.stores["main"].place_order([("SKU-MUG-001", 1), ("SKU-STICKER", 2)])
    assert_run_ok(await wcsync.sync(), order)
    await asyncio.sleep(TICK)  # the edit lands in a later second than anything wcsync read
    return order


async def edit(store: RealStore, what: str, order: dict[str, Any]) -> None:
    if what == "billing":
        await store.update(order["id"], billing={"address_2": "Side door"})
    elif what == "line":
        line = {"id": order["line_items"][0]["id"], "quantity": 2, "subtotal": "20.00", "total": "20.00"}
        await store.update(order["id"], line_items=[line])
    else:
        await save_items(store, order, 3)


async def test_which_edits_move_no_date(stores: dict[str, RealStore]) -> None:
    """The fact the rest depends on, on both storages of WooCommerce 7.8.2 (the items box's save
    is checked in the test below): REST edits of an address or a line."""
    for name, what, hides in (("main", "billing", True), ("main", "line", True), ("sub1", "billing", False)):
        store = stores[name]
        before = await store.place_order([("SKU-MUG-001", 1)])
        await asyncio.sleep(TICK)
        await edit(store, what, before)
        after = (await store.order(before["id"]))["date_modified_gmt"]
        assert (after == before["date_modified_gmt"]) is hides, (name, what, before, after)


@pytest.fixture
def plugin_files_on_main(real_stores: list[StoreInfo]) -> Iterator[StoreInfo]:
    """The wcsync-admin plugin's files in main (inactive); removed again afterwards."""
    (info,) = [s for s in real_stores if s.name == "main"]
    install_plugin(info)
    try:
        yield info
    finally:
        remove_plugin(info)


async def test_an_items_box_save_on_posts_reaches_both_copies(
    wcsync: Wcsync, plugin_files_on_main: StoreInfo
) -> None:
    """Without the plugin, through the content check; with it, through the date it moves."""
    order = await replicated(wcsync)
    main = wcsync.stores["main"]
    before = (await main.order(order["id"]))["date_modified_gmt"]
    saved = await save_items(main, await main.order(order["id"]), 4)
    assert saved["date_modified_gmt"] == before  # no discovery pass can see it

    check = ContentCheck(wcsync.app.state.engine.ctx)
    main_row = next(s for s in await _stores(wcsync) if s.name == "main")
    assert await check.hides_edits(main_row)
    stats = await check.tick()
    assert stats.errors == [] and stats.origins_changed == 2 and stats.written == 2, stats
    origin = await main.order(order["id"])
    assert origin["total"] == saved["total"]
    for copy in (await copies(wcsync, order["id"])).values():
        assert_faithful_copy(origin, copy, origin_store="main")

    # The plugin moves the date on the same save, and says so in the site index: the content
    # check then leaves the store alone, and a pass meets the edit by its date.
    toggle_plugin(plugin_files_on_main, True)
    await asyncio.sleep(TICK)
    saved = await save_items(main, await main.order(order["id"]), 2)
    assert saved["date_modified_gmt"] > origin["date_modified_gmt"]
    assert not await ContentCheck(wcsync.app.state.engine.ctx).hides_edits(main_row)
    assert_run_ok(await wcsync.sync(), order)
    origin = await main.order(order["id"])
    assert origin["total"] == saved["total"]
    for copy in (await copies(wcsync, order["id"])).values():
        assert_faithful_copy(origin, copy, origin_store="main")


async def _stores(wcsync: Wcsync) -> list[Store]:
    async with session_scope(wcsync.app.state.engine.ctx.session_factory) as session:
        return list(await repo.list_stores(session, enabled_only=True))
