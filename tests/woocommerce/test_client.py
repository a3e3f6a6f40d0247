from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from app.woocommerce.client import (
    ALL_ORDER_STATUSES,
    BATCH_LIMIT,
    WooCommerceClient,
    order_list_params,
)
from app.woocommerce.errors import (
    FatalError,
    MalformedResponse,
    NotFoundError,
    RetriableError,
    RouteNotFoundError,
)
from tests.woocommerce.conftest import (
    API,
    BASE_URL,
    HOST,
    KEY,
    SECRET,
    STORAGES,
    api_path,
    load_case,
    recorded_response,
)


def _orders(*ids: int) -> list[dict[str, Any]]:
    return [{"id": order_id, "status": "processing"} for order_id in ids]


def _page(ids: list[int], total: int | None = None, pages: int | None = None) -> httpx.Response:
    headers = {}
    if total is not None:
        headers["X-WP-Total"] = str(total)
    if pages is not None:
        headers["X-WP-TotalPages"] = str(pages)
    return httpx.Response(200, json=_orders(*ids), headers=headers)


class TestUrls:
    async def test_api_root_under_a_sub_path(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        route = respx_mock.get(f"{API}/orders/42").mock(return_value=httpx.Response(200, json={"id": 42}))
        order = await client.get_order(42)
        assert order == {"id": 42}
        assert route.calls.last.request.url.path == "/shop2/wp-json/wc/v3/orders/42"
        assert client.api_root == "https://shop.example.test/shop2/wp-json/wc/v3"

    async def test_trailing_slash_in_base_url(self, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.post(f"{API}/orders/5/notes").mock(
            return_value=httpx.Response(201, json={"id": 9, "note": "hi"})
        )
        async with WooCommerceClient(BASE_URL + "/", KEY, SECRET) as wc:
            note = await wc.create_order_note(5, "hi")
        assert note["id"] == 9
        assert json.loads(route.calls.last.request.content) == {
            "note": "hi",
            "customer_note": False,
        }

    @pytest.mark.parametrize(
        "base_url", ["shop.example.test", "ftp://shop.example.test", "https://x.test/?a=1"]
    )
    def test_bad_base_url_is_refused(self, base_url: str) -> None:
        with pytest.raises(ValueError):
            WooCommerceClient(base_url, KEY, SECRET)

    async def test_headers(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.get(f"{API}/orders/1").mock(return_value=httpx.Response(200, json={"id": 1}))
        await client.get_order(1)
        headers = route.calls.last.request.headers
        assert headers["user-agent"] == "wcsync/0.1"
        assert headers["accept-encoding"] == "gzip"

    async def test_site_index_is_unauthenticated(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="wcsync.woocommerce")
        body = load_case("posts", "35b-")["response"]["body"]
        route = respx_mock.get(f"{BASE_URL}/wp-json/").mock(return_value=httpx.Response(200, json=body))
        index = await client.site_index()
        assert index["timezone_string"] == body["timezone_string"]
        request = route.calls.last.request
        assert "authorization" not in request.headers
        assert request.url.params["_fields"].split(",")[:2] == ["name", "url"]
        assert "path=/wp-json/ status=200" in caplog.records[-1].getMessage()

    # What real stores with plain permalinks answer (docs/woocommerce-behaviour.md): WordPress
    # 6.1 serves its home page at /wp-json/, 6.8 redirects /wp-json/ to itself; /?rest_route=/
    # serves the index either way.
    @pytest.mark.parametrize(
        "answer",
        [
            httpx.Response(200, html="<!DOCTYPE html><html><title>Shop</title></html>"),
            httpx.Response(301, headers={"Location": f"{BASE_URL}/wp-json/"}),
        ],
        ids=["home page", "redirect"],
    )
    async def test_plain_permalinks_are_named(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter, answer: httpx.Response
    ) -> None:
        respx_mock.get(f"{BASE_URL}/wp-json/").mock(return_value=answer)
        probe = respx_mock.get(f"{BASE_URL}/", params={"rest_route": "/"}).mock(
            return_value=httpx.Response(200, json={"namespaces": ["oembed/1.0", "wc/v3"]})
        )
        with pytest.raises(RouteNotFoundError, match="the site has plain permalinks"):
            await client.site_index()
        assert probe.called

    async def test_a_redirect_elsewhere_is_not_taken_for_permalinks(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(f"{BASE_URL}/wp-json/").mock(
            return_value=httpx.Response(301, headers={"Location": "https://www.example.test/wp-json/"})
        )
        respx_mock.get(f"{BASE_URL}/", params={"rest_route": "/"}).mock(
            return_value=httpx.Response(301, headers={"Location": "https://www.example.test/"})
        )
        with pytest.raises(FatalError, match="store redirected") as caught:
            await client.site_index()
        assert not isinstance(caught.value, RouteNotFoundError)

    async def test_system_status(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        body = load_case("hpos", "35a-")["response"]["body"]
        route = respx_mock.get(f"{API}/system_status").mock(return_value=httpx.Response(200, json=body))
        status = await client.system_status()
        assert status["settings"] == body["settings"]
        assert route.calls.last.request.url.params["_fields"] == "environment,database,settings"

    async def test_delete_trashes_unless_forced(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        route = respx_mock.delete(f"{API}/orders/8").mock(
            return_value=httpx.Response(200, json={"id": 8, "status": "processing"})
        )
        await client.delete_order(8)
        assert "force" not in route.calls.last.request.url.params
        await client.delete_order(8, force=True)
        assert route.calls.last.request.url.params["force"] == "true"


class TestListOrders:
    async def test_orders_are_read_to_six_places(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        """WooCommerce keeps line amounts to six places and taxes a copy from what it is sent:
        every order read asks for them (`dp=6`), a listing and one order alike."""
        listing = respx_mock.get(host=HOST, path=api_path("/orders")).respond(200, json=[])
        one = respx_mock.get(host=HOST, path=api_path("/orders/7")).respond(200, json={"id": 7})
        await client.list_orders(fields=("id",))
        await client.get_order(7)
        assert listing.calls.last.request.url.params["dp"] == "6"
        assert one.calls.last.request.url.params["dp"] == "6"

    def test_dates_are_sent_as_naive_utc(self) -> None:
        plus_two = timezone(timedelta(hours=2))
        params = order_list_params(
            modified_after=datetime(2026, 11, 22, 9, 53, 18, 999_999, tzinfo=plus_two),
            after=datetime(2026, 1, 1, tzinfo=UTC),
        )
        assert params["modified_after"] == "2026-11-22T07:53:18"
        assert params["after"] == "2026-01-01T00:00:00"
        assert params["dates_are_gmt"] == "true"

    def test_naive_datetime_is_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            order_list_params(modified_after=datetime(2026, 1, 1))

    @pytest.mark.parametrize("per_page", [0, 101])
    def test_per_page_bounds(self, per_page: int) -> None:
        # The store answers 400 rest_invalid_param above 100 (recorded 05).
        with pytest.raises(ValueError, match="per_page"):
            order_list_params(per_page=per_page)

    def test_status_string_is_refused(self) -> None:
        with pytest.raises(TypeError):
            order_list_params(status="processing")  # type: ignore[arg-type]

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_recorded_page_one(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        case = load_case(storage, "02a-")
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(return_value=recorded_response(case))
        page = await client.list_orders(
            modified_after=datetime.fromisoformat(case["request"]["query"]["modified_after"]).replace(
                tzinfo=UTC
            ),
            per_page=2,
        )
        sent = dict(route.calls.last.request.url.params)
        # The recorded request, and the amounts to six places (test_orders_are_read_to_six_places).
        assert sent == {**case["request"]["query"], "dp": "6"}
        assert [o["id"] for o in page.items] == [o["id"] for o in case["response"]["body"]]
        assert (page.total, page.total_pages, page.page) == (5, 3, 1)

    async def test_filters(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            return_value=httpx.Response(200, json=[])
        )
        respx_mock.get(host=HOST, path=api_path("/reports/orders/totals")).mock(
            return_value=httpx.Response(200, json=[{"slug": "pending", "name": "Pending", "total": 0}])
        )
        page = await client.list_orders(
            status=ALL_ORDER_STATUSES,
            fields=["date_modified_gmt", "meta_data"],
            include=[3, 4],
            page=2,
        )
        params = route.calls.last.request.url.params
        assert params["status"] == (
            "pending,processing,on-hold,completed,cancelled,refunded,failed,checkout-draft,trash"
        )
        assert params["_fields"] == "id,date_modified_gmt,meta_data"
        assert params["include"] == "3,4"
        assert params["page"] == "2"
        assert "dates_are_gmt" not in params
        assert (page.items, page.total, page.total_pages, page.page) == ([], None, None, 2)

    async def test_item_without_id_is_malformed(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            return_value=httpx.Response(200, json=[{"id": 1}, {"status": "x"}])
        )
        with pytest.raises(MalformedResponse, match="item 1 has no integer 'id'") as info:
            await client.list_orders()
        assert info.value.ambiguous is False  # a GET changes nothing


class TestIterOrders:
    async def test_walks_recorded_pages_until_a_short_page(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        page1 = recorded_response(load_case("posts", "02a-"))
        page2 = recorded_response(load_case("posts", "02b-"))
        page3 = _page([804], total=5, pages=3)
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(side_effect=[page1, page2, page3])
        pages = [[o["id"] for o in items] async for items in client.iter_orders(per_page=2)]
        assert pages == [[800, 801], [802, 803], [804]]
        assert [c.request.url.params["page"] for c in route.calls] == ["1", "2", "3"]

    async def test_stops_on_an_empty_page(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        # The store said two pages, but orders left the listing meanwhile: page 2 is empty.
        empty_hpos = recorded_response(load_case("hpos", "04-"))  # 200 [] with totals 0/0
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            side_effect=[_page([1, 2], total=4, pages=2), empty_hpos]
        )
        pages = [items async for items in client.iter_orders(per_page=2)]
        assert len(pages) == 1
        assert route.call_count == 2

    async def test_stops_at_the_last_page_without_asking_for_an_empty_one(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            side_effect=[_page([1, 2], total=4, pages=2), _page([3, 4], total=4, pages=2)]
        )
        pages = [items async for items in client.iter_orders(per_page=2)]
        assert [[order["id"] for order in page] for page in pages] == [[1, 2], [3, 4]]
        assert route.call_count == 2

    async def test_repeated_page_is_refused(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        # e.g. a page cache in front of the store ignoring ?page=
        respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            side_effect=[_page([1, 2], 10, 5), _page([1, 2], 10, 5)]
        )
        seen = []
        with pytest.raises(MalformedResponse, match="repeats page 1"):
            async for items in client.iter_orders(per_page=2):
                seen.append(items)
        assert len(seen) == 1

    async def test_iter_products_uses_stable_order(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        route = respx_mock.get(host=HOST, path=api_path("/products")).mock(
            return_value=httpx.Response(200, json=[{"id": 12, "sku": "SKU-MUG-001"}])
        )
        pages = [items async for items in client.iter_products()]
        assert pages == [[{"id": 12, "sku": "SKU-MUG-001"}]]
        params = route.calls.last.request.url.params
        assert (params["orderby"], params["order"], params["per_page"]) == ("id", "asc", "100")
        assert params["_fields"] == "id,sku,name,type,parent_id,variations"


class TestBatch:
    @pytest.mark.parametrize("storage", STORAGES)
    async def test_recorded_mixed_batch_matched_by_position(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        case = load_case(storage, "23-")
        sent = case["request"]["body"]
        route = respx_mock.post(f"{API}/orders/batch").mock(return_value=recorded_response(case))

        result = await client.batch_orders(
            create=sent["create"], update=sent["update"], delete=sent["delete"]
        )

        assert json.loads(route.calls.last.request.content) == sent
        assert [r.index for r in result.create] == [0, 1, 2]
        assert [r.order["status"] for r in result.create if r.order] == [
            "processing",
            "pending",
            "pending",  # "not-a-status" is silently created as pending inside a batch
        ]
        ok, missing = result.update
        assert ok.error is None and ok.order is not None
        assert ok.order["id"] == sent["update"][0]["id"]
        assert missing.order is None
        assert isinstance(missing.error, NotFoundError)
        assert isinstance(missing.error, FatalError)
        assert missing.error.code == "woocommerce_rest_shop_order_invalid_id"
        assert missing.error.status == 400
        assert missing.index == 1
        (deleted,) = result.delete
        assert deleted.order is not None and deleted.order["id"] == sent["delete"][0]

    async def test_create_error_matched_by_position_not_id(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        failed = {
            "id": 0,
            "error": {
                "code": "woocommerce_rest_invalid_coupon",
                "message": 'Coupon "x" does not exist!',
                "data": {"status": 400},
            },
        }
        respx_mock.post(f"{API}/orders/batch").mock(
            return_value=httpx.Response(200, json={"create": [{"id": 70}, failed, {"id": 71}]})
        )
        result = await client.batch_orders(create=[{}, {}, {}])
        assert [r.order["id"] if r.order else None for r in result.create] == [70, None, 71]
        error = result.create[1].error
        assert isinstance(error, FatalError) and not isinstance(error, NotFoundError)
        assert error.code == "woocommerce_rest_invalid_coupon"
        assert error.ambiguous  # the order may have been saved before the coupon check
        assert result.update == [] and result.delete == []

    async def test_more_than_the_limit_is_refused_locally(self, client: WooCommerceClient) -> None:
        with pytest.raises(ValueError, match="at most 100"):
            await client.batch_orders(create=[{}] * 60, delete=list(range(BATCH_LIMIT - 59)))

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_recorded_413(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        # A store whose woocommerce_rest_batch_items_limit filter is lower than ours.
        respx_mock.post(f"{API}/orders/batch").mock(return_value=recorded_response(load_case(storage, "24-")))
        with pytest.raises(FatalError) as info:
            await client.batch_orders(create=[{}] * BATCH_LIMIT)
        assert info.value.status == 413
        assert info.value.code == "woocommerce_rest_request_entity_too_large"
        assert not info.value.retriable
        assert not info.value.ambiguous

    async def test_update_needs_an_id(self, client: WooCommerceClient) -> None:
        with pytest.raises(ValueError, match="update item 0"):
            await client.batch_orders(update=[{"status": "completed"}])

    async def test_empty_batch_is_a_harmless_write_probe(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        route = respx_mock.post(f"{API}/orders/batch").mock(
            return_value=httpx.Response(200, json=[])  # PHP's empty array
        )
        result = await client.batch_orders()
        assert json.loads(route.calls.last.request.content) == {}
        assert (result.create, result.update, result.delete) == ([], [], [])

    async def test_missing_results_are_malformed(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.post(f"{API}/orders/batch").mock(
            return_value=httpx.Response(200, json={"create": [{"id": 1}]})
        )
        with pytest.raises(MalformedResponse, match="should hold 2 results, got 1") as info:
            await client.batch_orders(create=[{}, {}])
        assert info.value.ambiguous  # some of the batch may have been applied

    async def test_result_for_another_id_is_malformed(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.post(f"{API}/orders/batch").mock(
            return_value=httpx.Response(200, json={"update": [{"id": 6}, {"id": 5}]})
        )
        with pytest.raises(MalformedResponse, match="is for id 6"):
            await client.batch_orders(update=[{"id": 5}, {"id": 6}])


class TestProductsNotesWebhooks:
    @pytest.mark.parametrize(("case", "count"), [("30a-", 1), ("30b-", 0)])
    async def test_products_by_sku(
        self, case: str, count: int, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case("posts", case)
        route = respx_mock.get(host=HOST, path=api_path("/products")).mock(
            return_value=recorded_response(recorded)
        )
        products = await client.products_by_sku(recorded["request"]["query"]["sku"])
        assert len(products) == count
        assert dict(route.calls.last.request.url.params) == recorded["request"]["query"]

    async def test_order_notes(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        recorded = load_case("posts", "31a-")
        respx_mock.get(host=HOST, path=api_path(recorded["request"]["path"][14:])).mock(
            return_value=recorded_response(recorded)
        )
        order_id = int(recorded["request"]["path"].split("/")[-2])
        notes = await client.list_order_notes(order_id)
        assert "&rarr;" in notes[-1]["note"] or "&rarr;" in notes[0]["note"]

    async def test_webhooks_are_listed_across_pages(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        full = [{"id": i} for i in range(1, 101)]
        respx_mock.get(host=HOST, path=api_path("/webhooks")).mock(
            side_effect=[
                httpx.Response(200, json=full, headers={"X-WP-TotalPages": "2"}),
                httpx.Response(200, json=[{"id": 101}], headers={"X-WP-TotalPages": "2"}),
            ]
        )
        hooks = await client.list_webhooks()
        assert [h["id"] for h in hooks] == list(range(1, 102))

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_create_webhook(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case(storage, "36a-")
        respx_mock.post(f"{API}/webhooks").mock(return_value=recorded_response(recorded))
        hook = await client.create_webhook(recorded["request"]["body"])
        assert hook["id"] == recorded["response"]["body"]["id"]
        assert "secret" not in hook  # write-only on the store


class TestClockSkewAndLogging:
    async def test_clock_skew_from_date_header(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        server_now = datetime.now(UTC) + timedelta(seconds=300)
        respx_mock.get(f"{API}/orders/1").mock(
            return_value=httpx.Response(
                200, json={"id": 1}, headers={"Date": format_datetime(server_now, usegmt=True)}
            )
        )
        assert client.clock_skew is None
        await client.get_order(1)
        assert client.clock_skew is not None
        assert 298 <= client.clock_skew <= 301

    async def test_clock_skew_is_recorded_from_error_replies_too(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        server_now = datetime.now(UTC) - timedelta(minutes=20)
        respx_mock.get(f"{API}/orders/1").mock(
            return_value=httpx.Response(
                401,
                json={"code": "woocommerce_rest_authentication_error", "message": "Invalid timestamp."},
                headers={"Date": format_datetime(server_now, usegmt=True)},
            )
        )
        with pytest.raises(FatalError, match="clocks differ"):
            await client.get_order(1)
        assert client.clock_skew is not None and client.clock_skew < -1190

    async def test_log_lines_carry_no_secrets(
        self, respx_mock: respx.MockRouter, caplog: pytest.LogCaptureFixture
    ) -> None:
        respx_mock.post(f"{API}/orders/batch").mock(
            return_value=httpx.Response(200, json={"delete": [{"id": 3}]})
        )
        respx_mock.get(f"{API}/orders/4").mock(return_value=httpx.Response(404, json={}))
        caplog.set_level(logging.INFO, logger="wcsync.woocommerce")
        async with WooCommerceClient(BASE_URL, KEY, SECRET, auth_mode="query", store_name="sub1") as wc:
            await wc.batch_orders(delete=[3])
            with pytest.raises(FatalError):
                await wc.get_order(4)
        messages = [r.getMessage() for r in caplog.records]
        assert any(
            m.startswith("wc.request store=sub1 method=POST path=/orders/batch status=200 ms=")
            for m in messages
        )
        assert any(
            m.startswith("wc.request.failed store=sub1 method=GET path=/orders/4 status=404")
            for m in messages
        )
        assert not any(KEY in m or SECRET in m for m in messages)


class TestTransportBehaviour:
    async def test_overall_deadline_over_asgi(self) -> None:
        # httpx.ASGITransport ignores httpx timeouts; the client's own deadline must still fire.
        async def slow_app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            await asyncio.sleep(5)

        async with WooCommerceClient(
            BASE_URL, KEY, SECRET, timeout=0.2, transport=httpx.ASGITransport(app=slow_app)
        ) as wc:
            loop = asyncio.get_running_loop()
            started = loop.time()
            with pytest.raises(RetriableError) as info:
                await wc.create_order({"status": "pending"})
            assert loop.time() - started < 2
        assert info.value.kind == "timeout"
        assert info.value.ambiguous  # the create may have happened

    async def test_concurrency_is_bounded(self) -> None:
        in_flight = 0
        peak = 0

        async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
            nonlocal in_flight, peak
            in_flight += 1
            peak = max(peak, in_flight)
            await asyncio.sleep(0.05)
            in_flight -= 1
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            await send({"type": "http.response.body", "body": b'{"id": 1}'})

        async with WooCommerceClient(
            BASE_URL, KEY, SECRET, max_concurrency=2, transport=httpx.ASGITransport(app=app)
        ) as wc:
            orders = await asyncio.gather(*(wc.get_order(1) for _ in range(6)))
        assert len(orders) == 6
        assert peak == 2


class TestProducts:
    async def test_products_by_skus_asks_for_a_comma_list(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case("variations", "v03b-")
        route = respx_mock.get(host=HOST, path=api_path("/products")).mock(
            return_value=recorded_response(recorded)
        )
        products = await client.products_by_skus(["SKU-MUG-001", "SKU-POLO-M", "A,B"])
        assert route.calls.last.request.url.params["sku"] == "SKU-MUG-001,SKU-POLO-M"
        assert {(p["sku"], p["type"]) for p in products} == {
            ("SKU-POLO-M", "variation"),
            ("SKU-MUG-001", "simple"),
        }

    async def test_variations_of_a_product(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case("variations", "v05a-")
        respx_mock.get(host=HOST, path=api_path("/products/407/variations")).mock(
            return_value=recorded_response(recorded)
        )
        (variation,) = await client.product_variations(407)
        assert variation["sku"] == "SKU-POLO-M" and "parent_id" not in variation


# As GET /reports/orders/totals answers on a real WooCommerce 7.8.2 store whose plugin registers
# wc-awaiting-pickup and wc-shipped (tests/real/mu-plugins/statuses.php).
TOTALS_WITH_PLUGIN = [
    {"slug": "pending", "name": "Pending payment", "total": 0},
    {"slug": "processing", "name": "Processing", "total": 3},
    {"slug": "awaiting-pickup", "name": "Awaiting pickup", "total": 1},
    {"slug": "shipped", "name": "Shipped", "total": 2},
    {"slug": "on-hold", "name": "On hold", "total": 0},
    {"slug": "completed", "name": "Completed", "total": 0},
    {"slug": "cancelled", "name": "Cancelled", "total": 0},
    {"slug": "refunded", "name": "Refunded", "total": 0},
    {"slug": "failed", "name": "Failed", "total": 0},
    {"slug": "checkout-draft", "name": "Draft", "total": 0},
]
REFUSED_STATUS = {
    "code": "rest_invalid_param",
    "message": "Invalid parameter(s): status",
    "data": {"status": 400, "params": {"status": "status[9] is not one of any, trash, ..."}},
}


class TestOrderStatuses:
    async def test_reads_every_registered_status_with_its_label(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        route = respx_mock.get(host=HOST, path=api_path("/reports/orders/totals")).mock(
            return_value=httpx.Response(200, json=TOTALS_WITH_PLUGIN)
        )
        statuses = await client.order_statuses()
        assert statuses["shipped"] == "Shipped" and statuses["awaiting-pickup"] == "Awaiting pickup"
        assert len(statuses) == 10
        await client.order_statuses()  # cached: one request
        assert route.call_count == 1
        client.forget_order_statuses()
        await client.order_statuses()
        assert route.call_count == 2

    async def test_a_listing_of_every_status_names_the_plugins_too(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        """A named status list leaves out every status it does not name: an order moved to a
        plugin's status would never be listed again (seen on real 7.8.2 and 10.6.2)."""
        respx_mock.get(host=HOST, path=api_path("/reports/orders/totals")).mock(
            return_value=httpx.Response(200, json=TOTALS_WITH_PLUGIN)
        )
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            return_value=httpx.Response(200, json=[])
        )
        await client.list_orders(status=ALL_ORDER_STATUSES)
        named = route.calls.last.request.url.params["status"].split(",")
        assert set(named) == set(ALL_ORDER_STATUSES) | {"shipped", "awaiting-pickup"}
        # A listing naming its own statuses is left as it is.
        await client.list_orders(status=["processing"])
        assert route.calls.last.request.url.params["status"] == "processing"

    async def test_a_status_unregistered_since_is_read_again(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        without_shipped = [row for row in TOTALS_WITH_PLUGIN if row["slug"] != "shipped"]
        totals = respx_mock.get(host=HOST, path=api_path("/reports/orders/totals")).mock(
            side_effect=[
                httpx.Response(200, json=TOTALS_WITH_PLUGIN),
                httpx.Response(200, json=without_shipped),
            ]
        )
        route = respx_mock.get(host=HOST, path=api_path("/orders")).mock(
            side_effect=[httpx.Response(400, json=REFUSED_STATUS), httpx.Response(200, json=_orders(7))]
        )
        page = await client.list_orders(status=ALL_ORDER_STATUSES)
        assert [o["id"] for o in page.items] == [7]
        assert totals.call_count == 2
        assert "shipped" not in route.calls.last.request.url.params["status"].split(",")

    async def test_falls_back_to_the_schema_when_reports_are_refused(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(host=HOST, path=api_path("/reports/orders/totals")).mock(
            return_value=httpx.Response(
                403,
                json={"code": "woocommerce_rest_cannot_view", "message": "Sorry", "data": {"status": 403}},
            )
        )
        respx_mock.options(host=HOST, path=api_path("/orders")).mock(
            return_value=httpx.Response(
                200,
                json={"schema": {"properties": {"status": {"enum": ["auto-draft", "pending", "shipped"]}}}},
            )
        )
        assert await client.order_statuses() == {"pending": "pending", "shipped": "shipped"}
