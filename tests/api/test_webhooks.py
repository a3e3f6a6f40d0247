"""The webhook routes over HTTP: the public delivery endpoint (signature is the auth) and the
Bearer-protected install/list routes, on a fake store reached in-process."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import select

from app.db import session_scope
from app.main import create_app
from app.models import WebhookThrottle
from app.sync import repository as repo
from app.sync.discover.webhooks import MAX_BODY_BYTES, ORDER_TOPICS, WebhookReceiver
from app.testing import FakeStore, sign_webhook_body
from tests.conftest import RECORDED
from tests.e2e.support import TOKEN, make_fake, service_settings
from tests.sync.test_webhooks import SyncRecorder

DELIVERY = json.loads((RECORDED / "webhooks" / "order-created-delivery.json").read_text())
PING = json.loads((RECORDED / "webhooks" / "ping.json").read_text())
PUBLIC_URL = "http://wcsync.test"


@dataclass
class Api:
    http: httpx.AsyncClient
    app: FastAPI
    fake: FakeStore
    sync: SyncRecorder

    async def add_main(self) -> None:
        response = await self.http.post(
            "/api/stores",
            json={
                "name": "main",
                "role": "main",
                "base_url": self.fake.base_url,
                "consumer_key": self.fake.consumer_key,
                "consumer_secret": self.fake.consumer_secret,
                "auth_mode": "basic",
            },
        )
        assert response.status_code == 201, response.text

    async def set_secret(self, secret: str) -> None:
        async with session_scope(self.app.state.session_factory) as session:
            (await repo.get_store(session, "main")).webhook_secret = secret

    async def secret(self) -> str | None:
        async with session_scope(self.app.state.session_factory) as session:
            return (await repo.get_store(session, "main")).webhook_secret

    async def deliver(self, body: bytes, headers: dict[str, str], store: str = "main") -> httpx.Response:
        # As WooCommerce sends it: no Authorization header.
        return await self.http.post(
            f"/api/webhooks/{store}", content=body, headers={**headers, "Authorization": ""}
        )


@asynccontextmanager
async def serve(database_url: str, public_url: str, **overrides: Any) -> AsyncIterator[Api]:
    """wcsync in-process with its store traffic sent to a fake store, and the sync that a
    delivery schedules recorded instead of run."""
    fake = make_fake("main")
    app = create_app(
        service_settings(database_url, public_url=public_url, **overrides),
        transport_factory=lambda _: fake.transport(),
    )
    # The store's creation pings and deliveries reach this app in-process.
    fake.webhook_transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app):
        sync = SyncRecorder()
        app.state.webhooks = WebhookReceiver(sync)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url=PUBLIC_URL,
            headers={"Authorization": f"Bearer {TOKEN}"},
        ) as http:
            yield Api(http=http, app=app, fake=fake, sync=sync)
        await app.state.webhooks.wait_idle()
    await fake.aclose()


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with serve(database_url, PUBLIC_URL) as value:
        yield value


def recorded_headers() -> dict[str, str]:
    keep = ("Content-Type", "User-Agent") + tuple(h for h in DELIVERY["headers"] if h.startswith("X-WC-"))
    return {name: DELIVERY["headers"][name] for name in keep}


class TestDelivery:
    async def test_the_recorded_real_delivery_is_accepted_and_schedules_its_order(self, api: Api) -> None:
        await api.add_main()
        await api.set_secret(DELIVERY["secret"])
        response = await api.deliver(DELIVERY["raw_body"].encode(), recorded_headers())
        assert response.status_code == 202, response.text
        assert response.json() == {"ok": True, "scheduled": True}
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == [("main", 17)]

        replay = await api.deliver(DELIVERY["raw_body"].encode(), recorded_headers())
        assert replay.status_code == 200
        assert replay.json() == {"ok": True, "scheduled": False, "reason": "duplicate"}
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == [("main", 17)]

    @pytest.mark.parametrize("fault", ["tampered_body", "wrong_secret", "no_signature", "unknown_store"])
    async def test_refused_with_401_and_logged_without_the_body(
        self, api: Api, caplog: pytest.LogCaptureFixture, fault: str
    ) -> None:
        await api.add_main()
        await api.set_secret("s3cr3tWRONG" if fault == "wrong_secret" else DELIVERY["secret"])
        body = DELIVERY["raw_body"].encode()
        headers = recorded_headers()
        store = "main"
        if fault == "tampered_body":
            body = body.replace(b'"total":"', b'"total":"1', 1)
        elif fault == "no_signature":
            del headers["X-WC-Webhook-Signature"]
        elif fault == "unknown_store":
            store = "elsewhere"
        with caplog.at_level(logging.INFO):
            response = await api.deliver(body, headers, store=store)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "bad_signature"
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == []
        assert "webhook.refused" in caplog.text
        assert DELIVERY["raw_body"][:60] not in caplog.text and "s3cr3t" not in caplog.text

    async def test_the_creation_ping_gets_200_and_schedules_nothing(self, api: Api) -> None:
        await api.add_main()
        headers = {k: v for k, v in PING["headers"].items() if k in ("Content-Type", "User-Agent")}
        response = await api.deliver(PING["raw_body"].encode(), headers)
        assert response.status_code == 200  # only exactly 200 clears WooCommerce's pending flag
        assert response.json() == {"ok": True, "ping": True}
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == []

    async def test_a_rest_error_body_is_answered_200_and_ignored(self, api: Api) -> None:
        await api.add_main()
        await api.set_secret("Secret123")
        body = (
            b'{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}'
        )
        headers = {
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": sign_webhook_body(body, "Secret123"),
        }
        response = await api.deliver(body, headers)
        assert response.status_code == 200
        assert response.json() == {"ok": True, "scheduled": False, "reason": "rest_error"}
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == []

    async def test_an_oversized_body_is_refused_unread(self, api: Api) -> None:
        await api.add_main()
        body = b"{" + b" " * MAX_BODY_BYTES + b"}"
        response = await api.deliver(
            body, {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "x"}
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            (b'{"id":' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deep"),
            (b'{"id":%d,"date_modified_gmt":"2026-11-22T08:00:00"}' % 2**70, "larger than"),
        ],
    )
    async def test_a_signed_body_no_woocommerce_sends_is_refused_up_front(
        self, api: Api, body: bytes, words: str
    ) -> None:
        """Issue 18: 100,000 levels of nesting were a 500; an order id of 2**70 a 202 and a sync
        that failed in the background."""
        await api.add_main()
        await api.set_secret("Secret123")
        headers = {
            "X-WC-Webhook-Topic": "order.updated",
            "X-WC-Webhook-Signature": sign_webhook_body(body, "Secret123"),
        }
        response = await api.deliver(body, headers)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "invalid_payload" and words in error["message"]
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == []


class TestReplays:
    async def test_a_replay_after_a_restart_is_not_applied_again(self, database_url: str) -> None:
        """Issue 18: de-duplication lived in one process's memory. A new app on the same ledger
        recognises the delivery, `order.deleted` (which carries no date) included."""
        trash = b'{"id":17}'
        deliveries = [
            (DELIVERY["raw_body"].encode(), recorded_headers()),
            (
                trash,
                {
                    "X-WC-Webhook-Topic": "order.deleted",
                    "X-WC-Webhook-Signature": sign_webhook_body(trash, DELIVERY["secret"]),
                },
            ),
        ]
        async with serve(database_url, PUBLIC_URL) as first:
            await first.add_main()
            await first.set_secret(DELIVERY["secret"])
            for body, headers in deliveries:
                assert (await first.deliver(body, headers)).status_code == 202
            await first.app.state.webhooks.wait_idle()
            assert first.sync.calls == [("main", 17), ("main", 17)]
        async with serve(database_url, PUBLIC_URL) as restarted:
            for body, headers in deliveries:
                again = await restarted.deliver(body, headers)
                assert again.status_code == 200, again.text
                assert again.json() == {"ok": True, "scheduled": False, "reason": "duplicate"}
            await restarted.app.state.webhooks.wait_idle()
            assert restarted.sync.calls == []


class TestBadSignatureThrottle:
    async def test_bad_signatures_are_throttled_per_store_and_address(self, database_url: str) -> None:
        async with serve(database_url, PUBLIC_URL, auth_max_failures=3) as api:
            await api.add_main()
            await api.set_secret(DELIVERY["secret"])
            body = DELIVERY["raw_body"].encode()
            wrong = {**recorded_headers(), "X-WC-Webhook-Signature": sign_webhook_body(body, "guess")}
            answers = [(await api.deliver(body, wrong)).status_code for _ in range(3)]
            assert answers == [401, 401, 429]
            refused = await api.deliver(body, recorded_headers())  # even the right signature, for now
            assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
            assert refused.json()["error"]["code"] == "too_many_failures"
            assert "bad signature" in refused.json()["error"]["message"]
            # Another store's deliveries from the same address are not held up.
            other = await api.deliver(body, wrong, store="elsewhere")
            assert other.status_code == 401
            # Names that are no store count as one: inventing names neither escapes the throttle
            # nor adds a row per name.
            invented = [(await api.deliver(body, wrong, store=f"nope{i}")).status_code for i in range(3)]
            assert invented == [401, 429, 429]
            async with session_scope(api.app.state.session_factory) as session:
                rows = (await session.exec(select(WebhookThrottle))).all()
            assert sorted(row.store for row in rows) == ["?", "main"]
            await api.app.state.webhooks.wait_idle()
            assert api.sync.calls == []

    async def test_a_refused_address_is_answered_before_its_body_is_read(self, database_url: str) -> None:
        async with serve(database_url, PUBLIC_URL, auth_max_failures=1) as api:
            await api.add_main()
            await api.set_secret(DELIVERY["secret"])
            headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Signature": "bm9wZQ=="}
            assert (await api.deliver(b'{"id":1}', headers)).status_code == 429
            sent = 0

            async def body() -> AsyncIterator[bytes]:
                nonlocal sent
                for _ in range(64):
                    sent += 1
                    yield b" " * 65536

            response = await api.http.post(
                "/api/webhooks/main", content=body(), headers={**headers, "Authorization": ""}
            )
            assert response.status_code == 429
            assert sent <= 2, sent

    async def test_a_body_declared_over_the_limit_is_refused_unread(self, api: Api) -> None:
        await api.add_main()
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            for _ in range(4):
                sent += 1
                yield b" " * 1024

        response = await api.http.post(
            "/api/webhooks/main",
            content=body(),
            headers={
                "Content-Length": str(MAX_BODY_BYTES + 1),
                "X-WC-Webhook-Signature": "x",
                "Authorization": "",
            },
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
        assert sent <= 1


class TestInstallRoute:
    async def test_install_needs_the_token(self, api: Api) -> None:
        await api.add_main()
        for method in ("POST", "GET"):
            response = await api.http.request(
                method, "/api/stores/main/webhooks", headers={"Authorization": ""}
            )
            assert response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated"
        assert api.fake.webhooks.webhooks == {}

    async def test_install_creates_four_never_returns_the_secret_and_pings_are_answered(
        self, api: Api, caplog: pytest.LogCaptureFixture
    ) -> None:
        await api.add_main()
        with caplog.at_level(logging.INFO):
            response = await api.http.post("/api/stores/main/webhooks")
        assert response.status_code == 200, response.text
        assert caplog.text.count("webhook.ping store=main") == 4  # each creation pinged us
        body = response.json()
        assert body["ok"] is True and body["errors"] == [] and body["warnings"] == []
        assert body["delivery_url"] == f"{PUBLIC_URL}/api/webhooks/main"
        assert sorted((w["topic"], w["status"], w["action"]) for w in body["webhooks"]) == sorted(
            (t, "active", "created") for t in ORDER_TOPICS
        )
        secret = await api.secret()
        assert secret and {h.secret for h in api.fake.webhooks.webhooks.values()} == {secret}
        listed = await api.http.get("/api/stores/main/webhooks")
        assert listed.status_code == 200
        assert listed.json()["secret_set"] is True
        assert sorted(w["topic"] for w in listed.json()["webhooks"]) == sorted(ORDER_TOPICS)
        for reply in (response, listed, await api.http.get("/api/stores/main")):
            assert secret not in reply.text
        assert secret not in caplog.text

        # A delivery the fake signs with that secret is accepted.
        order = api.fake.place_order([("SKU-MUG-001", 1)])
        await api.fake.drain_webhooks()
        created = [d for d in api.fake.webhook_deliveries if d.topic == "order.created"]
        assert [d.status_code for d in created] == [202]
        await api.app.state.webhooks.wait_idle()
        assert api.sync.calls == [("main", order["id"])]

    async def test_reinstall_updates_the_same_four(self, api: Api) -> None:
        await api.add_main()
        first = (await api.http.post("/api/stores/main/webhooks")).json()
        first_secret = await api.secret()
        again = (await api.http.post("/api/stores/main/webhooks")).json()
        assert {w["id"] for w in again["webhooks"]} == {w["id"] for w in first["webhooks"]}
        assert {w["action"] for w in again["webhooks"]} == {"updated"}
        assert len(api.fake.webhooks.webhooks) == 4
        assert await api.secret() != first_secret

    async def test_check_reports_a_disabled_webhook(self, api: Api) -> None:
        await api.add_main()
        await api.http.post("/api/stores/main/webhooks")
        next(iter(api.fake.webhooks.webhooks.values())).status = "disabled"
        check = (await api.http.post("/api/stores/main/check")).json()
        (item,) = [c for c in check["checks"] if c["name"] == "webhooks"]
        assert item["ok"] is False and "disabled" in item["detail"] and "WP-Cron" in item["detail"]
        assert check["ok"] is False

    async def test_unknown_store_is_404(self, api: Api) -> None:
        response = await api.http.post("/api/stores/nope/webhooks")
        assert response.status_code == 404 and response.json()["error"]["code"] == "store_not_found"


async def test_install_without_public_url_is_a_clear_422(database_url: str) -> None:
    async with serve(database_url, "") as api:
        await api.add_main()
        response = await api.http.post("/api/stores/main/webhooks")
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "invalid_request"
        assert "WCSYNC_PUBLIC_URL" in response.json()["error"]["message"]
        assert api.fake.webhooks.webhooks == {} and await api.secret() is None


async def test_install_warns_when_wordpress_would_refuse_the_port(database_url: str) -> None:
    async with serve(database_url, "http://wcsync.test:8000") as api:
        await api.add_main()
        body = (await api.http.post("/api/stores/main/webhooks")).json()
        assert body["ok"] is True and body["delivery_url"] == "http://wcsync.test:8000/api/webhooks/main"
        assert len(body["warnings"]) == 1 and "port 8000" in body["warnings"][0]
