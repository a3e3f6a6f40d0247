"""One second holding more orders than a keyset request may exclude (a bulk action, an import) is
read alone, by id and offset with an overlap: nothing still in that second is skipped, even
when the shop edits many orders out of it between two page requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app.sync.discover.listing import OVERLAP, _crowded_second
from app.testing import FakeStore
from app.testing.state import EDIT_META_KEY
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import MalformedResponse
from tests.e2e.support import make_fake

SECOND = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)
STAMP = SECOND.strftime("%Y-%m-%dT%H:%M:%S")


def bulk_edited(store: FakeStore, count: int) -> list[int]:
    """`count` orders whose last edit fell in one second, plus one a second before and after."""
    ids = []
    for index in range(count + 2):
        order = store.place_order([("SKU-STICKER", 1)])
        moment = SECOND + timedelta(seconds=-1 if index == 0 else 1 if index == count + 1 else 0)
        store.update_order_direct(order["id"], date_modified_gmt=moment.strftime("%Y-%m-%dT%H:%M:%S"))
        ids.append(order["id"])
    return ids[1:-1]


@pytest.fixture
async def store() -> AsyncIterator[FakeStore]:
    fake = make_fake("main")
    yield fake
    await fake.aclose()


async def walk(store: FakeStore, transport: httpx.AsyncBaseTransport | None = None) -> tuple[list[int], int]:
    async with WooCommerceClient(
        store.base_url,
        store.api_key.consumer_key,
        store.api_key.consumer_secret,
        auth_mode="basic",
        transport=transport or store.transport(),
        store_name=store.name,
    ) as client:
        read: list[int] = []
        requests = 0
        async for items, sent in _crowded_second(client, store.name, SECOND):
            read += [o["id"] for o in items]
            requests += sent
    return read, requests


async def test_every_order_of_a_crowded_second_is_read_once(store: FakeStore) -> None:
    ids = bulk_edited(store, 1000)
    read, requests = await walk(store)
    assert sorted(read) == sorted(ids)  # each once, none from the seconds either side
    assert requests == 13  # 100, then 80 new a page
    sent = [q for label, q in store.recent_requests if label == "GET /orders"]
    assert all("orderby=id" in q and "offset=" in q and "exclude" not in q for q in sent)


@pytest.mark.parametrize("edits", [1, OVERLAP, OVERLAP + 1, 100])
async def test_orders_edited_out_of_the_second_during_the_walk_skip_no_other(
    store: FakeStore, edits: int
) -> None:
    """The shop edits `edits` orders of each page just read (the first ones), moving them out of
    the second: with plain offsets every later order would move up that many places and as many
    would never be read. Every order is either read or has left the second (where the walk after
    it, or the next pass, meets it)."""
    ids = bulk_edited(store, 400)
    store.knobs.edit_while_listing = edits
    read, _ = await walk(store)
    store.knobs.edit_while_listing = 0
    left = {i for i in ids if store.orders[i]["date_modified_gmt"] != STAMP}
    assert left, "the shop edited some orders during the walk"
    assert all(any(m["key"] == EDIT_META_KEY for m in store.orders[i]["meta_data"]) for i in left)
    assert set(ids) - set(read) <= left
    still_there = [i for i in ids if i not in left]
    assert set(still_there) <= set(read)
    assert len(read) == len(set(read))


async def test_a_store_ignoring_the_offset_stops_the_walk_in_words(store: FakeStore) -> None:
    bulk_edited(store, 250)

    async def no_offset(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        """A cache in front of the store that drops `offset` from the query."""
        if scope["type"] == "http":
            query = b"&".join(
                part for part in scope["query_string"].split(b"&") if not part.startswith(b"offset=")
            )
            scope = {**scope, "query_string": query}
        await store.app(scope, receive, send)

    with pytest.raises(MalformedResponse, match="one second's orders"):
        await walk(store, httpx.ASGITransport(app=no_offset))
