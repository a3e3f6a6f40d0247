"""``GET /orders``: date filters, statuses, ordering, pages and Link headers."""

from __future__ import annotations

import random
import re
from datetime import datetime, timedelta
from typing import Any

import httpx

from app.testing import FakeStore
from app.testing.listing import parse_wp_date, sort_index
from tests.testing.conftest import API, make_store


def orders_in_distinct_seconds(store: FakeStore, statuses: list[str]) -> list[dict[str, Any]]:
    created = []
    for status in statuses:
        created.append(store.place_order([("SKU-MUG-001", 1)], status=status))
        store.knobs.clock_skew_seconds += 1
    return created


async def ids(client: httpx.AsyncClient, **params: Any) -> list[int]:
    response = await client.get(f"{API}/orders", params={"per_page": 100, **params})
    assert response.status_code == 200, response.text
    return [order["id"] for order in response.json()]


class TestDateFilters:
    async def test_modified_after_is_exclusive_at_one_second(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        first, second, third = orders_in_distinct_seconds(store, ["processing"] * 3)
        boundary = second["date_modified_gmt"]
        earlier = datetime.fromisoformat(boundary) - timedelta(seconds=1)
        common = {"dates_are_gmt": "true", "orderby": "modified", "order": "asc"}
        assert await ids(client, modified_after=boundary, **common) == [third["id"]]
        assert await ids(client, modified_after=earlier.strftime("%Y-%m-%dT%H:%M:%S"), **common) == [
            second["id"],
            third["id"],
        ]
        assert await ids(client, modified_before=boundary, **common) == [first["id"]]

    async def test_orders_of_one_second_are_all_in_or_all_out(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        same_second = [store.place_order([("SKU-MUG-001", 1)]) for _ in range(3)]
        for order in same_second:
            store.update_order_direct(
                order["id"], date_created_gmt="2030-01-01T00:00:00", date_modified_gmt="2030-01-01T00:00:00"
            )
        assert await ids(client, modified_after="2030-01-01T00:00:00") == []
        assert await ids(client, modified_after="2029-12-31T23:59:59", orderby="modified", order="asc") == [
            o["id"] for o in same_second
        ]
        # Ties are broken by id in the same direction, like WooCommerce's "modified ID".
        assert await ids(client, orderby="modified", order="desc") == [o["id"] for o in reversed(same_second)]

    async def test_after_filters_creation_and_modified_after_modification(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        (old,) = orders_in_distinct_seconds(store, ["pending"])
        t0 = store.clock().strftime("%Y-%m-%dT%H:%M:%S")
        store.knobs.clock_skew_seconds += 1
        (new,) = orders_in_distinct_seconds(store, ["pending"])
        store.update_order_direct(old["id"], customer_note="touched")
        assert await ids(client, after=t0, dates_are_gmt="true") == [new["id"]]
        assert sorted(await ids(client, modified_after=t0, dates_are_gmt="true")) == sorted(
            [old["id"], new["id"]]
        )

    async def test_a_zone_offset_is_converted_to_utc(self) -> None:
        assert parse_wp_date("2026-11-22T09:53:18+02:00") == "2026-11-22T07:53:18"
        assert parse_wp_date("2026-11-22 07:53:18Z") == "2026-11-22T07:53:18"
        assert parse_wp_date("2026-11-22") is None
        assert parse_wp_date("2026-02-30T00:00:00") is None


class TestStatuses:
    async def test_any_excludes_trash_even_next_to_trash(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        kept, trashed = orders_in_distinct_seconds(store, ["processing", "on-hold"])
        response = await client.delete(f"{API}/orders/{trashed['id']}")
        assert response.status_code == 200
        assert await ids(client) == [kept["id"]]
        assert await ids(client, status="any,trash") == [kept["id"]]
        assert await ids(client, status="trash") == [trashed["id"]]
        assert await ids(client, **{"status[]": ["processing", "trash"]}) == [
            trashed["id"],
            kept["id"],
        ]

    async def test_comma_list_and_unknown_status(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        pending, processing, held = orders_in_distinct_seconds(store, ["pending", "processing", "on-hold"])
        assert await ids(client, status="processing,on-hold") == [held["id"], processing["id"]]
        response = await client.get(f"{API}/orders", params={"status": "processing,shipped"})
        assert response.status_code == 400
        assert response.json()["data"]["params"] == {
            "status": "status[1] is not one of any, trash, pending, processing, on-hold, completed, "
            "cancelled, refunded, failed, and checkout-draft."
        }


class TestParameters:
    async def test_invalid_params_are_reported_together_in_registration_order(
        self, client: httpx.AsyncClient
    ) -> None:
        response = await client.get(
            f"{API}/orders", params={"order": "up", "per_page": "0", "modified_after": "yesterday"}
        )
        assert response.status_code == 400
        body = response.json()
        assert body["message"] == "Invalid parameter(s): per_page, modified_after, order"
        assert body["data"]["details"]["order"]["code"] == "rest_not_in_enum"
        assert body["data"]["params"]["order"] == "order is not one of asc and desc."

    async def test_validation_comes_before_the_permission_check(self, store: FakeStore) -> None:
        async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url) as anonymous:
            response = await anonymous.get(f"{API}/orders", params={"per_page": "101"})
        assert response.status_code == 400
        assert response.json()["code"] == "rest_invalid_param"

    async def test_fields_keep_id_and_drop_links(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        orders_in_distinct_seconds(store, ["processing"])
        response = await client.get(f"{API}/orders", params={"_fields": "status,billing.email"})
        (order,) = response.json()
        assert order == {"id": order["id"], "status": "processing", "billing": {"email": "ada@example.test"}}
        single = await client.get(f"{API}/orders/{order['id']}", params={"_fields": "status"})
        assert set(single.json()) == {"id", "status", "_links"}

    async def test_dp_renders_money_with_more_places(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        (order,) = orders_in_distinct_seconds(store, ["processing"])
        response = await client.get(f"{API}/orders/{order['id']}", params={"dp": "4"})
        body = response.json()
        assert body["total"] == "14.5000" and body["line_items"][0]["total"] == "9.5000"
        assert store.orders[order["id"]]["total"] == "14.50"

    async def test_search_by_id_and_by_email(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        first, _ = orders_in_distinct_seconds(store, ["processing", "processing"])
        store.update_order_direct(first["id"], billing={"email": "grace@example.test"})
        assert await ids(client, search=str(first["id"])) == [first["id"]]
        assert await ids(client, search="grace@") == [first["id"]]


class TestPages:
    async def test_walking_next_links_visits_every_order_once(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        created = {store.place_order([("SKU-STICKER", 1)])["id"] for _ in range(23)}
        seen: list[int] = []
        url: str | None = f"{API}/orders?per_page=5&orderby=id&order=asc"
        pages = 0
        while url is not None:
            response = await client.get(url)
            assert response.headers["x-wp-total"] == "23"
            assert response.headers["x-wp-totalpages"] == "5"
            seen.extend(order["id"] for order in response.json())
            found = re.search(r'<([^>]+)>; rel="next"', response.headers["link"])
            url = found.group(1) if found else None
            pages += 1
        assert pages == 5
        assert seen == sorted(created)

    async def test_page_past_the_end_differs_by_storage(self) -> None:
        for storage, total, pages, prev in (("posts", "3", "2", "2"), ("hpos", "0", "0", "0")):
            store = make_store(storage=storage)
            for _ in range(3):
                store.place_order([("SKU-STICKER", 1)])
            async with store.client() as client:
                response = await client.get(f"{API}/orders", params={"per_page": 2, "page": 9})
            assert response.json() == []
            assert (response.headers["x-wp-total"], response.headers["x-wp-totalpages"]) == (total, pages)
            assert response.headers["link"] == (
                f'<{store.base_url}{API}/orders?per_page=2&page={prev}&status%5B0%5D=any>; rel="prev"'
            )

    async def test_head_answers_like_get(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        store.place_order([("SKU-STICKER", 1)])
        response = await client.head(f"{API}/orders")
        assert response.status_code == 200 and response.headers["x-wp-total"] == "1"

    async def test_a_single_page_keeps_the_api_link(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.place_order([("SKU-STICKER", 1)])
        response = await client.get(f"{API}/orders")
        assert response.headers["link"] == f'<{store.base_url}/wp-json/>; rel="https://api.w.org/"'

    async def test_writes_update_the_sort_index_instead_of_resorting(self, store: FakeStore) -> None:
        for n in range(2000):
            store.state.create_order({"line_items": [{"sku": "SKU-STICKER", "quantity": 1}]})
            if n % 500 == 0:
                store.knobs.clock_skew_seconds += 1
        params = {"per_page": 100, "orderby": "modified", "order": "asc"}
        async with store.client() as client:
            first = await client.get(f"{API}/orders", params=params)
            index = sort_index(store.state, "date_modified_gmt")
            keys = index.keys
            store.knobs.clock_skew_seconds += 1
            newest = store.place_order([("SKU-STICKER", 1)])
            oldest = first.json()[0]["id"]
            store.knobs.clock_skew_seconds += 1
            store.update_order_direct(oldest, customer_note="moves to the end")
            last_page = await client.get(f"{API}/orders", params={**params, "per_page": 3, "page": 667})
        assert sort_index(store.state, "date_modified_gmt") is index and index.keys is keys
        assert first.headers["x-wp-total"] == "2000" and last_page.headers["x-wp-total"] == "2001"
        assert [o["id"] for o in last_page.json()][-2:] == [newest["id"], oldest]

    async def test_the_index_agrees_with_a_full_sort_after_random_writes(self, store: FakeStore) -> None:
        rng = random.Random(5)
        created = [store.place_order([("SKU-STICKER", 1)])["id"] for _ in range(60)]
        async with store.client() as client:
            for round_ in range(5):
                await client.get(f"{API}/orders", params={"orderby": "modified"})  # builds, then catches up
                for order_id in rng.sample(created, 15):
                    if order_id not in store.orders:
                        continue
                    action = rng.choice(["date", "note", "delete", "trash"])
                    if action == "date":
                        stamp = f"2030-01-0{rng.randint(1, 3)}T00:00:0{rng.randint(0, 9)}"
                        store.update_order_direct(order_id, date_modified_gmt=stamp)
                    elif action == "note":
                        store.update_order_direct(order_id, customer_note=f"round {round_}")
                    elif action == "delete":
                        await client.delete(f"{API}/orders/{order_id}", params={"force": "true"})
                    else:
                        await client.delete(f"{API}/orders/{order_id}")
                response = await client.get(
                    f"{API}/orders",
                    params={"orderby": "modified", "order": "asc", "per_page": 100, "status": "any,trash"},
                )
                expected = sorted(
                    (o["date_modified_gmt"], o["id"]) for o in store.orders.values() if o["status"] != "trash"
                )
                assert [o["id"] for o in response.json()] == [order_id for _, order_id in expected]


class TestRequestLineLimit:
    """Behind nginx (`large_client_header_buffers 4 8k`) a request line past 8 KB is answered 414
    before WordPress sees it: a keyset walk's `exclude=` list of ~900 ids gets there."""

    async def test_a_request_line_past_8_kb_is_414_and_one_within_is_answered(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.place_order([("SKU-MUG-001", 1)])
        many = ",".join(str(10_000 + i) for i in range(1100))  # 8 bytes each, "%2C" encoded: 8.8 KB
        response = await client.get(f"{API}/orders", params={"exclude": many, "_fields": "id"})
        assert response.status_code == 414
        assert "414 Request-URI Too Large" in response.text
        assert response.headers["content-type"].startswith("text/html")
        fewer = ",".join(str(10_000 + i) for i in range(200))
        response = await client.get(f"{API}/orders", params={"exclude": fewer, "_fields": "id"})
        assert response.status_code == 200, response.text
        assert len(response.json()) == 1
