"""Webhooks: the REST resource, and signed deliveries to a real receiver on loopback."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from app.testing import FakeStore, php_json_dumps, sign_webhook_body
from app.testing.server import serve_in_background
from tests.conftest import RECORDED as BASE_RECORDED
from tests.testing.conftest import API
from tests.waiting import within

RECORDED = BASE_RECORDED / "webhooks"
SECRET = "s3cretABC123"


@dataclass
class Receiver:
    """An endpoint that records what it was sent and answers ``status``."""

    status: int = 200
    calls: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.post("/hook")
        async def hook(request: Request) -> Response:
            self.calls.append((dict(request.headers), await request.body()))
            return Response(status_code=self.status)

        return app

    def deliveries(self) -> list[tuple[dict[str, str], bytes]]:
        return [(h, b) for h, b in self.calls if "x-wc-webhook-topic" in h]


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    endpoint = Receiver()
    async with serve_in_background(endpoint.app()) as url:
        yield endpoint, f"{url}/hook"


async def add_webhook(client: httpx.AsyncClient, topic: str, url: str) -> dict[str, Any]:
    response = await client.post(
        f"{API}/webhooks", json={"name": topic, "topic": topic, "delivery_url": url, "secret": SECRET}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_the_recorded_delivery_verifies_with_our_signer() -> None:
    delivery = json.loads((RECORDED / "order-created-delivery.json").read_text())
    raw = delivery["raw_body"].encode()
    assert sign_webhook_body(raw, delivery["secret"]) == delivery["headers"]["X-WC-Webhook-Signature"]
    assert sign_webhook_body(raw, "other") != delivery["headers"]["X-WC-Webhook-Signature"]


def test_php_json_reproduces_the_recorded_body_byte_for_byte() -> None:
    raw = json.loads((RECORDED / "order-created-delivery.json").read_text())["raw_body"]
    assert php_json_dumps(json.loads(raw)) == raw
    assert php_json_dumps({"u": "a/b é"}) == '{"u":"a\\/b \\u00e9"}'


def test_an_html_escaped_secret_is_decoded_before_signing() -> None:
    assert sign_webhook_body(b"{}", "a&amp;b") == sign_webhook_body(b"{}", "a&b")


async def test_ping_then_a_signed_created_delivery(
    store: FakeStore, client: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    webhook = await add_webhook(client, "order.created", url)
    assert "secret" not in webhook and webhook["hooks"] == ["woocommerce_new_order"]
    ((ping_headers, ping_body),) = endpoint.calls
    assert ping_body == f"webhook_id={webhook['id']}".encode()
    assert ping_headers["content-type"] == "application/x-www-form-urlencoded"
    assert not any(name.startswith("x-wc-") for name in ping_headers)

    order = store.place_order([("SKU-MUG-001", 1)])
    await store.drain_webhooks()
    ((headers, body),) = endpoint.deliveries()
    assert headers["x-wc-webhook-topic"] == "order.created"
    assert (headers["x-wc-webhook-resource"], headers["x-wc-webhook-event"]) == ("order", "created")
    assert headers["x-wc-webhook-id"] == str(webhook["id"])
    assert headers["x-wc-webhook-source"] == f"{store.base_url}/"
    assert headers["user-agent"] == "WooCommerce/7.8.2 Hookshot (WordPress/6.1.9)"
    assert headers["x-wc-webhook-signature"] == sign_webhook_body(body, SECRET)
    assert b"\\/wp-json\\/wc\\/v3\\/orders" in body
    assert json.loads(body) == store.orders[order["id"]]
    assert store.webhook_deliveries[0].status_code == 200


async def test_payload_is_built_at_delivery_and_bursts_collapse(
    store: FakeStore, client: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    store.knobs.webhook_delay_seconds = 0.2
    await add_webhook(client, "order.created", url)
    await add_webhook(client, "order.updated", url)
    created = (
        await client.post(f"{API}/orders", json={"line_items": [{"sku": "SKU-MUG-001", "quantity": 1}]})
    ).json()
    for status in ("processing", "on-hold"):
        await client.put(f"{API}/orders/{created['id']}", json={"status": status})
    await store.drain_webhooks()
    topics = sorted(h["x-wc-webhook-topic"] for h, _ in endpoint.deliveries())
    assert topics == ["order.created", "order.updated"]  # the creating request fired no update
    assert {json.loads(b)["status"] for _, b in endpoint.deliveries()} == {"on-hold"}


async def test_trash_sends_the_id_only_and_a_permanent_delete_sends_nothing(
    store: FakeStore, client: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    await add_webhook(client, "order.deleted", url)
    trashed, erased = (store.place_order([("SKU-MUG-001", 1)]) for _ in range(2))
    await client.delete(f"{API}/orders/{trashed['id']}")
    await client.delete(f"{API}/orders/{erased['id']}", params={"force": "true"})
    await store.drain_webhooks()
    ((headers, body),) = endpoint.deliveries()
    assert json.loads(body) == {"id": trashed["id"]}


async def test_inactive_webhooks_stay_quiet_and_failures_disable(
    store: FakeStore, client: httpx.AsyncClient, receiver: tuple[Receiver, str]
) -> None:
    endpoint, url = receiver
    webhook = await add_webhook(client, "order.updated", url)
    order = store.place_order([("SKU-MUG-001", 1)])
    await client.put(f"{API}/webhooks/{webhook['id']}", json={"status": "paused"})
    store.update_order_direct(order["id"], customer_note="while paused")
    await store.drain_webhooks()
    assert endpoint.deliveries() == []

    await client.put(f"{API}/webhooks/{webhook['id']}", json={"status": "active"})
    endpoint.status = 500
    for n in range(7):
        store.update_order_direct(order["id"], customer_note=f"edit {n}")
        await store.drain_webhooks()
    assert len(endpoint.deliveries()) == 7
    listed = await client.get(f"{API}/webhooks", params={"status": "disabled"})
    assert [w["id"] for w in listed.json()] == [webhook["id"]]
    store.update_order_direct(order["id"], customer_note="after disabling")
    await store.drain_webhooks()
    assert len(endpoint.deliveries()) == 7


async def test_without_a_transport_nothing_leaves_loopback(
    store: FakeStore, client: httpx.AsyncClient
) -> None:
    """A delivery URL off loopback is never contacted: the ping is skipped and each delivery is
    recorded as failed, with the reason. (Had the fake tried, a connection to this unroutable
    address would hang until its timeout, and the error would be httpx's.)"""
    webhook = await within(add_webhook(client, "order.created", "http://10.255.255.1:9/hook"), "the webhook")
    store.place_order([("SKU-MUG-001", 1)])
    await within(store.drain_webhooks(), "the deliveries to be recorded")
    (delivery,) = store.webhook_deliveries
    assert delivery.status_code is None
    assert delivery.error is not None and "only to loopback" in delivery.error
    assert delivery.webhook_id == webhook["id"]


async def test_webhook_resource_errors(client: httpx.AsyncClient) -> None:
    missing = await client.post(f"{API}/webhooks", json={"name": "x"})
    assert missing.status_code == 400 and missing.json()["data"]["params"] == ["topic", "delivery_url"]
    bad_topic = await client.post(
        f"{API}/webhooks", json={"topic": "order.exploded", "delivery_url": "http://x"}
    )
    assert bad_topic.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    assert (await client.get(f"{API}/webhooks/77")).status_code == 404
