"""Knobs and injected faults: what a client sees, and what the store did anyway."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from itertools import pairwise

import httpx
import pytest

from app.testing import FakeStore, Knobs
from tests.testing.conftest import API, make_store

ORDER = {
    "line_items": [{"sku": "SKU-MUG-001", "quantity": 1}],
    "meta_data": [{"key": "_wcsync_origin", "value": "main:1"}],
}


class TestOneShotFaults:
    async def test_timeout_after_create_leaves_exactly_one_order(self, store: FakeStore) -> None:
        store.knobs.hang_seconds = 30
        store.fail_next("timeout_after_create")
        async with store.client(timeout=0.2) as client:
            with pytest.raises(httpx.ReadTimeout):
                await client.post(f"{API}/orders", json=ORDER)
            assert len(store.find_by_meta("_wcsync_origin", "main:1")) == 1
            # The fault is spent: the next create answers, and is a second order.
            response = await client.post(f"{API}/orders", json=ORDER)
        assert response.status_code == 201
        assert len(store.find_by_meta("_wcsync_origin", "main:1")) == 2
        assert store.stats.faults["timeout_after_create"] == 1

    async def test_after_create_faults_wait_for_a_create(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.fail_next("drop_after_create")
        assert (await client.get(f"{API}/orders")).status_code == 200
        assert (await client.put(f"{API}/orders/1", json={})).status_code == 400
        with pytest.raises(httpx.RemoteProtocolError):
            await client.post(f"{API}/orders/batch", json={"create": [ORDER, ORDER]})
        assert len(store.orders) == 2
        assert store.pending_faults == []

    async def test_each_kind_answers_like_a_broken_host(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.knobs.retry_after_seconds = 7
        store.knobs.hang_seconds = 0.01
        for kind in ("5xx", "429", "html", "timeout"):
            store.fail_next(kind)
        first = await client.get(f"{API}/orders")
        assert first.status_code == 500 and first.json()["code"] == "internal_server_error"
        limited = await client.get(f"{API}/orders")
        assert limited.status_code == 429 and limited.headers["retry-after"] == "7"
        html = await client.get(f"{API}/orders")
        assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
        gateway = await client.post(f"{API}/orders", json=ORDER)
        assert gateway.status_code == 504
        assert store.orders == {}  # a pre-request timeout does nothing
        assert (await client.get(f"{API}/orders")).status_code == 200
        assert dict(store.stats.faults) == {"5xx": 1, "429": 1, "html": 1, "timeout": 1}

    async def test_count_and_unknown_kind(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        store.fail_next("5xx", count=2)
        codes = [(await client.get(f"{API}/orders")).status_code for _ in range(3)]
        assert codes == [500, 500, 200]
        with pytest.raises(ValueError):
            store.fail_next("meltdown")

    async def test_down_answers_503_html_to_everything(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.knobs.down = True
        for method, path in (("GET", "/orders"), ("POST", "/orders"), ("GET", "/nope")):
            response = await client.request(method, f"{API}{path}", json=ORDER if method == "POST" else None)
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("text/html")
        assert store.orders == {}


class TestRates:
    async def test_a_seed_reproduces_the_fault_sequence(self) -> None:
        sequences = []
        for _ in range(2):
            store = make_store(knobs=Knobs(fail_5xx_rate=0.3, fail_429_rate=0.2, seed=42))
            async with store.client() as client:
                sequences.append([(await client.get(f"{API}/orders")).status_code for _ in range(40)])
        assert sequences[0] == sequences[1]
        assert {500, 429, 200} == set(sequences[0])

    async def test_timeout_after_create_rate_one_times_out_every_create(self) -> None:
        store = make_store(knobs=Knobs(timeout_after_create_rate=1.0, hang_seconds=30))
        async with store.client(timeout=0.1) as client:
            for _ in range(3):
                with pytest.raises(httpx.ReadTimeout):
                    await client.post(f"{API}/orders", json=ORDER)
            assert (await client.get(f"{API}/orders")).headers["x-wp-total"] == "3"
        await store.aclose()


class TestLatencyAndConcurrency:
    async def test_latency_is_base_plus_per_order_written(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.knobs.latency_base_ms = 30
        store.knobs.latency_per_order_ms = 20
        await client.get(f"{API}/orders")
        await client.post(f"{API}/orders/batch", json={"create": [ORDER] * 4})
        read, batch = store.stats.served
        assert read.finished - read.started >= 0.030
        assert batch.finished - batch.started >= 0.030 + 4 * 0.020
        assert store.stats.orders_written == 4

    async def test_max_concurrency_one_serialises_requests(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        store.knobs.max_concurrency = 1
        store.knobs.latency_base_ms = 50
        responses = await asyncio.gather(*(client.get(f"{API}/orders") for _ in range(3)))
        assert [r.status_code for r in responses] == [200, 200, 200]
        served = sorted(store.stats.served, key=lambda s: s.started)
        assert all(later.started >= earlier.finished for earlier, later in pairwise(served))
        assert store.stats.max_in_flight == 1
        assert store.stats.max_waiting == 2
        assert store.stats.in_flight == 0 and store.stats.waiting == 0

    async def test_unlimited_concurrency_overlaps(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        store.knobs.latency_base_ms = 50
        await asyncio.gather(*(client.get(f"{API}/orders") for _ in range(3)))
        assert store.stats.max_in_flight == 3
        assert store.stats.max_waiting == 0

    async def test_a_client_giving_up_in_the_queue_frees_nothing_twice(self, store: FakeStore) -> None:
        store.knobs.max_concurrency = 1
        store.knobs.latency_base_ms = 100
        async with store.client(timeout=0.05) as impatient, store.client() as patient:
            slow = asyncio.ensure_future(patient.get(f"{API}/orders"))
            await asyncio.sleep(0.01)
            with pytest.raises(httpx.ReadTimeout):
                await impatient.get(f"{API}/orders")
            assert (await slow).status_code == 200
        await store.aclose()
        assert store.stats.in_flight == 0

    async def test_clock_skew_moves_dates_and_the_date_header(
        self, store: FakeStore, client: httpx.AsyncClient
    ) -> None:
        skew = -86400 * 3650
        store.knobs.clock_skew_seconds = skew
        expected = datetime.now(UTC) + timedelta(seconds=skew)
        order = store.place_order([("SKU-MUG-001", 1)])
        response = await client.get(f"{API}/orders/{order['id']}")
        created = datetime.fromisoformat(order["date_created_gmt"]).replace(tzinfo=UTC)
        assert abs((created - expected).total_seconds()) < 5
        assert parsedate_to_datetime(response.headers["date"]).year == expected.year
        assert store.clock().microsecond == 0
