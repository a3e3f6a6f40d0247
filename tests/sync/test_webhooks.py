"""Webhook service: signatures over raw bytes, what a delivery asks for, the receiver's
de-duplication and background syncs, and installing our webhooks on a (fake) store."""

from __future__ import annotations

import asyncio
import json
import logging
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from app.db import SessionFactory, session_scope
from app.errors import OrderNotFound, StoreUnavailable
from app.models import AuthMode, Store, StoreRole, WebhookDelivery
from app.sync import repository as repo
from app.sync.clients import ClientRegistry
from app.sync.discover import deliveries
from app.sync.discover import webhooks as wh
from app.testing import FakeStore, sign_webhook_body
from tests.conftest import RECORDED
from tests.factories import make_store
from tests.waiting import PATIENCE, within

DELIVERY = json.loads((RECORDED / "webhooks" / "order-created-delivery.json").read_text())
PING = json.loads((RECORDED / "webhooks" / "ping.json").read_text())
RAW = DELIVERY["raw_body"].encode()
SECRET = "Abc123secretForTests0123456789abcdefghij"


def signed(
    body: dict[str, Any] | bytes, topic: str = "order.updated", secret: str = SECRET
) -> tuple[dict[str, str], bytes]:
    raw = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Signature": sign_webhook_body(raw, secret),
        "X-WC-Webhook-ID": "3",
        "X-WC-Webhook-Delivery-ID": "same-every-time",
    }
    return headers, raw


class TestSignature:
    def test_the_recorded_real_delivery_verifies_byte_for_byte(self) -> None:
        header = DELIVERY["headers"]["X-WC-Webhook-Signature"]
        assert wh.sign(RAW, DELIVERY["secret"]) == header == DELIVERY["computed_signature"]
        assert wh.signature_valid(RAW, DELIVERY["secret"], header)

    def test_a_tampered_body_is_refused(self) -> None:
        header = DELIVERY["headers"]["X-WC-Webhook-Signature"]
        tampered = RAW.replace(b'"status":"pending"', b'"status":"completed"')
        assert tampered != RAW
        assert not wh.signature_valid(tampered, DELIVERY["secret"], header)

    def test_re_encoded_json_is_refused(self) -> None:
        # The same order, re-serialised: why we verify the raw bytes before parsing.
        header = DELIVERY["headers"]["X-WC-Webhook-Signature"]
        assert not wh.signature_valid(json.dumps(json.loads(RAW)).encode(), DELIVERY["secret"], header)

    def test_a_wrong_secret_is_refused(self) -> None:
        header = DELIVERY["headers"]["X-WC-Webhook-Signature"]
        assert not wh.signature_valid(RAW, "s3cr3T", header)
        assert not wh.signature_valid(RAW, DELIVERY["secret"], "")

    def test_the_recorded_ping_is_a_ping_and_a_delivery_is_not(self) -> None:
        ping_headers = {k.lower(): v for k, v in PING["headers"].items()}
        assert wh.is_ping(ping_headers, PING["raw_body"].encode())
        assert not wh.is_ping({k.lower(): v for k, v in DELIVERY["headers"].items()}, RAW)
        assert not wh.is_ping({}, b"webhook_id=1&action=x")
        signed_ping = {**ping_headers, "x-wc-webhook-signature": "x"}
        assert not wh.is_ping(signed_ping, b"webhook_id=1")

    def test_new_secrets_are_40_letters_and_digits(self) -> None:
        secrets = {wh.new_secret() for _ in range(50)}
        assert len(secrets) == 50
        for secret in secrets:
            assert len(secret) == 40
            assert set(secret) <= set(string.ascii_letters + string.digits)


class TestReadDelivery:
    def test_the_recorded_created_delivery_names_its_order(self) -> None:
        change = wh.read_delivery("order.created", RAW)
        assert change == wh.OrderChange(order_id=17, modified_gmt=json.loads(RAW)["date_modified_gmt"])

    def test_deleted_carries_only_the_id(self) -> None:
        assert wh.read_delivery("order.deleted", b'{"id":42}') == wh.OrderChange(42, None)

    def test_a_rest_error_body_is_ignored(self) -> None:
        body = (
            b'{"code":"woocommerce_rest_shop_order_invalid_id","message":"Invalid ID.","data":{"status":404}}'
        )
        assert wh.read_delivery("order.updated", body) == wh.Ignored(
            "rest_error", "woocommerce_rest_shop_order_invalid_id"
        )

    @pytest.mark.parametrize(
        ("topic", "body", "reason"),
        [
            ("product.updated", b'{"id":1}', "unknown_topic"),
            ("", b'{"id":1}', "unknown_topic"),
            ("order.updated", b"webhook_id=1", "not_json"),
            ("order.updated", b"[1]", "not_an_object"),
            ("order.updated", b'{"id":"7"}', "no_order_id"),
            ("order.updated", b'{"id":true}', "no_order_id"),
        ],
    )
    def test_what_is_not_an_order_change(self, topic: str, body: bytes, reason: str) -> None:
        ignored = wh.read_delivery(topic, body)
        assert isinstance(ignored, wh.Ignored) and ignored.reason == reason

    @pytest.mark.parametrize(
        ("body", "words"),
        [
            (b"[" * 100_000 + b"]" * 100_000, "nested too deep"),
            (b'{"id":' + b"[" * 2000 + b"]" * 2000 + b"}", "nested too deep"),
            (b'{"id":%d}' % 2**70, "larger than 9223372036854775807"),
            (b'{"id":%d}' % 2**63, "larger than"),
        ],
    )
    def test_what_no_woocommerce_sends_is_invalid(self, body: bytes, words: str) -> None:
        """Issue 18: nesting was a RecursionError (500), an id past 64 bits a sync that failed
        in the background."""
        with pytest.raises(wh.WebhookPayloadInvalid) as refused:
            wh.read_delivery("order.updated", body)
        assert words in refused.value.message

    def test_the_largest_order_id_is_an_order_change(self) -> None:
        assert wh.read_delivery("order.updated", b'{"id":%d}' % (2**63 - 1)) == wh.OrderChange(
            2**63 - 1, None
        )


class TestReadSigned:
    @staticmethod
    async def chunks(body: bytes, size: int = 1000) -> AsyncIterator[bytes]:
        for start in range(0, len(body), size):
            yield body[start : start + size]

    async def test_a_streamed_body_verifies_as_the_whole_one(self) -> None:
        assert (
            await wh.read_signed(
                self.chunks(RAW), DELIVERY["secret"], DELIVERY["headers"]["X-WC-Webhook-Signature"]
            )
            == RAW
        )
        tampered = RAW.replace(b'"total":"', b'"total":"1', 1)
        assert (
            await wh.read_signed(
                self.chunks(tampered), DELIVERY["secret"], DELIVERY["headers"]["X-WC-Webhook-Signature"]
            )
            is None
        )

    async def test_reading_stops_at_the_limit(self) -> None:
        read = 0

        async def endless() -> AsyncIterator[bytes]:
            nonlocal read
            while True:
                read += 65536
                yield b" " * 65536

        with pytest.raises(wh.WebhookBodyTooLarge):
            await wh.read_signed(endless(), SECRET, "x")
        assert read <= wh.MAX_BODY_BYTES + 65536


class TestDeliveryUrl:
    def test_empty_public_url_is_a_clear_422(self) -> None:
        with pytest.raises(wh.PublicUrlMissing) as raised:
            wh.delivery_url_for("  ", "sub1")
        assert raised.value.status_code == 422 and "WCSYNC_PUBLIC_URL" in raised.value.message

    def test_not_an_http_url_is_refused(self) -> None:
        with pytest.raises(wh.PublicUrlMissing):
            wh.delivery_url_for("wcsync.example.com", "sub1")

    @pytest.mark.parametrize(
        ("public_url", "expected", "warned"),
        [
            ("https://wcsync.example.com/", "https://wcsync.example.com/api/webhooks/sub1", []),
            ("http://wcsync.example.com:8080", "http://wcsync.example.com:8080/api/webhooks/sub1", []),
            ("https://example.com/wcsync", "https://example.com/wcsync/api/webhooks/sub1", []),
            ("http://wcsync.example.com:8000", "http://wcsync.example.com:8000/api/webhooks/sub1", ["port"]),
            ("http://127.0.0.1:8000", "http://127.0.0.1:8000/api/webhooks/sub1", ["port", "private"]),
            ("http://10.0.0.5", "http://10.0.0.5/api/webhooks/sub1", ["private"]),
        ],
    )
    def test_url_and_wordpress_delivery_warnings(
        self, public_url: str, expected: str, warned: list[str]
    ) -> None:
        url, warnings = wh.delivery_url_for(public_url, "sub1")
        assert url == expected
        kinds = [("port" if "port" in w else "private") for w in warnings]
        assert kinds == warned


# --- the receiver ---------------------------------------------------------------------------


@dataclass
class SyncRecorder:
    """Stands in for SyncEngine.sync_order; `gate` holds calls until it is set."""

    calls: list[tuple[str, int]] = field(default_factory=list)
    gate: asyncio.Event | None = None
    fail: BaseException | None = None

    async def __call__(self, store: str, order_id: int) -> None:
        self.calls.append((store, order_id))
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail


@pytest.fixture
async def stores(session_factory: SessionFactory) -> AsyncIterator[SessionFactory]:
    async with session_scope(session_factory) as session:
        session.add_all(
            [
                make_store("main", role=StoreRole.main, webhook_secret=SECRET),
                make_store("sub1"),  # no webhooks installed
                make_store("sub2", webhook_secret=SECRET, enabled=False),
            ]
        )
    yield session_factory


async def receive(
    factory: SessionFactory,
    receiver: wh.WebhookReceiver,
    headers: dict[str, str],
    body: bytes,
    store: str = "main",
) -> wh.Receipt:
    async with session_scope(factory) as session:
        return await receiver.receive(session, store, headers, body)


def order_body(order_id: int, modified: str = "2026-11-22T08:00:00", **extra: Any) -> dict[str, Any]:
    return {"id": order_id, "status": "processing", "date_modified_gmt": modified, **extra}


class TestReceiver:
    async def test_a_replayed_delivery_schedules_once(self, stores: SessionFactory) -> None:
        sync = SyncRecorder()
        receiver = wh.WebhookReceiver(sync)
        headers, body = signed(order_body(7))
        first = await receive(stores, receiver, headers, body)
        await receiver.wait_idle()
        again = await receive(stores, receiver, headers, body)
        # The same order and date under another topic is the same change.
        created = await receive(stores, receiver, *signed(order_body(7), topic="order.created"))
        await receiver.wait_idle()
        assert (first.scheduled, again.scheduled, created.scheduled) == (True, False, False)
        assert again.reason == "duplicate"
        assert sync.calls == [("main", 7)]

        newer = await receive(stores, receiver, *signed(order_body(7, "2026-11-22T08:00:05")))
        await receiver.wait_idle()
        assert newer.scheduled and sync.calls == [("main", 7), ("main", 7)]

    async def test_a_trash_counts_once_until_the_order_changes_again(self, stores: SessionFactory) -> None:
        """Issue 18: `order.deleted` carries no date, and was scheduled every time it was sent.
        The same trash replayed is a duplicate; trash, restore, trash again each count."""
        sync = SyncRecorder()
        receiver = wh.WebhookReceiver(sync)
        trash = signed({"id": 9}, topic="order.deleted")
        assert (await receive(stores, receiver, *trash)).scheduled
        await receiver.wait_idle()
        replay = await receive(stores, receiver, *trash)
        assert not replay.scheduled and replay.reason == "duplicate"
        restored = signed(order_body(9, "2026-11-22T09:00:00"), topic="order.restored")
        assert (await receive(stores, receiver, *restored)).scheduled
        await receiver.wait_idle()
        assert (await receive(stores, receiver, *trash)).scheduled
        await receiver.wait_idle()
        assert not (await receive(stores, receiver, *trash)).scheduled
        assert not (await receive(stores, receiver, *restored)).scheduled
        assert sync.calls == [("main", 9)] * 3

    async def test_a_replay_is_recognised_by_a_new_receiver(self, stores: SessionFactory) -> None:
        """What was accepted is in the ledger, not in one receiver's memory."""
        first = SyncRecorder()
        headers, body = signed(order_body(11))
        assert (await receive(stores, wh.WebhookReceiver(first), headers, body)).scheduled
        later = SyncRecorder()
        receiver = wh.WebhookReceiver(later)
        assert (await receive(stores, receiver, headers, body)).reason == "duplicate"
        await receiver.wait_idle()
        assert later.calls == []

    async def test_what_is_past_its_retention_is_forgotten(self, stores: SessionFactory) -> None:
        async with session_scope(stores) as session:
            store = await repo.get_store(session, "main")
            assert store.id is not None
            long_ago = datetime.now(UTC) - deliveries.RETENTION - timedelta(minutes=1)
            assert await deliveries.first_time(session, store.id, 1, "2026-01-01T00:00:00", now=long_ago)
            assert await deliveries.first_time(session, store.id, 2, "2026-01-01T00:00:00")
            # Past its retention (not yet cleaned up), the same change counts as new ...
            assert await deliveries.first_time(session, store.id, 1, "2026-01-01T00:00:00")
            assert not await deliveries.first_time(session, store.id, 2, "2026-01-01T00:00:00")
            await deliveries.forget_expired(
                session, now=datetime.now(UTC) + deliveries.RETENTION + timedelta(1)
            )
            left = (await session.exec(select(WebhookDelivery))).all()
        # ... and the clean-up deletes what is older than the retention.
        assert left == []

    async def test_the_response_does_not_wait_for_the_sync(self, stores: SessionFactory) -> None:
        sync = SyncRecorder(gate=asyncio.Event())
        receiver = wh.WebhookReceiver(sync)
        # The sync is held at its gate: a response that waited for it would never come.
        receipt = await within(
            receive(stores, receiver, *signed(order_body(5))), "the receipt, the sync held"
        )
        assert receipt.scheduled and receiver.busy
        assert sync.gate is not None
        sync.gate.set()
        await receiver.wait_idle()
        assert not receiver.busy

    async def test_changes_during_a_running_sync_fold_into_one_more_run(self, stores: SessionFactory) -> None:
        gate = asyncio.Event()
        sync = SyncRecorder(gate=gate)
        receiver = wh.WebhookReceiver(sync)
        await receive(stores, receiver, *signed(order_body(5, "2026-11-22T08:00:00")))
        await asyncio.sleep(0)
        for second in ("01", "02", "03"):
            assert (
                await receive(stores, receiver, *signed(order_body(5, f"2026-11-22T08:00:{second}")))
            ).scheduled
        await asyncio.sleep(0.01)
        assert sync.calls == [("main", 5)]  # never two syncs of one order at once
        gate.set()
        await receiver.wait_idle()
        assert sync.calls == [("main", 5), ("main", 5)]

    async def test_a_failed_sync_is_logged_not_raised_and_polling_takes_over(
        self, stores: SessionFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        sync = SyncRecorder(fail=RuntimeError("store exploded"))
        receiver = wh.WebhookReceiver(sync)
        headers, body = signed(order_body(8))
        with caplog.at_level(logging.INFO, logger="wcsync.webhooks"):
            assert (await receive(stores, receiver, headers, body)).scheduled
            await receiver.wait_idle()
        assert "webhook.sync.failed store=main order=8 error=RuntimeError: store exploded" in caplog.text
        sync.fail = None
        # A replay is still a replay (polling retries the order, not whoever resends the bytes).
        assert (await receive(stores, receiver, headers, body)).reason == "duplicate"
        await receiver.wait_idle()
        assert sync.calls == [("main", 8)]

    async def test_an_order_gone_by_sync_time_is_not_a_failure(
        self, stores: SessionFactory, caplog: pytest.LogCaptureFixture
    ) -> None:
        sync = SyncRecorder(fail=OrderNotFound("main", 8))
        receiver = wh.WebhookReceiver(sync)
        headers, body = signed(order_body(8))
        with caplog.at_level(logging.INFO, logger="wcsync.webhooks"):
            await receive(stores, receiver, headers, body)
            await receiver.wait_idle()
        assert "webhook.sync.gone store=main order=8" in caplog.text
        assert "webhook.sync.failed" not in caplog.text
        assert not (await receive(stores, receiver, headers, body)).scheduled  # still a duplicate

    async def test_ping_schedules_nothing_and_needs_no_store(self, stores: SessionFactory) -> None:
        sync = SyncRecorder()
        receiver = wh.WebhookReceiver(sync)
        headers = {k: v for k, v in PING["headers"].items()}
        for store in ("main", "no-such-store"):
            receipt = await receive(stores, receiver, headers, PING["raw_body"].encode(), store=store)
            assert receipt == wh.Receipt(ping=True)
        await receiver.wait_idle()
        assert sync.calls == []

    async def test_rest_error_and_other_topics_are_ignored(self, stores: SessionFactory) -> None:
        sync = SyncRecorder()
        receiver = wh.WebhookReceiver(sync)
        error = {
            "code": "woocommerce_rest_shop_order_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 404},
        }
        assert (await receive(stores, receiver, *signed(error))).reason == "rest_error"
        assert (await receive(stores, receiver, *signed({"id": 3}, topic="product.updated"))).reason == (
            "unknown_topic"
        )
        await receiver.wait_idle()
        assert sync.calls == []

    async def test_a_disabled_store_is_not_synced(self, stores: SessionFactory) -> None:
        sync = SyncRecorder()
        receiver = wh.WebhookReceiver(sync)
        receipt = await receive(stores, receiver, *signed(order_body(4)), store="sub2")
        await receiver.wait_idle()
        assert receipt.reason == "store_disabled" and sync.calls == []

    @pytest.mark.parametrize(
        ("store", "secret", "drop_signature", "reason"),
        [
            ("main", "not-the-secret", False, "bad_signature"),
            ("main", SECRET, True, "missing_signature"),
            ("sub1", SECRET, False, "no_secret"),
            ("nowhere", SECRET, False, "unknown_store"),
            ("bad\nname", SECRET, False, "unknown_store"),
        ],
    )
    async def test_refusals_are_logged_without_body_or_secret(
        self,
        stores: SessionFactory,
        caplog: pytest.LogCaptureFixture,
        store: str,
        secret: str,
        drop_signature: bool,
        reason: str,
    ) -> None:
        sync = SyncRecorder()
        receiver = wh.WebhookReceiver(sync)
        headers, body = signed(order_body(6, billing={"email": "private@example.test"}), secret=secret)
        if drop_signature:
            del headers["X-WC-Webhook-Signature"]
        with caplog.at_level(logging.INFO, logger="wcsync.webhooks"), pytest.raises(wh.BadWebhookSignature):
            await receive(stores, receiver, headers, body, store=store)
        await receiver.wait_idle()
        assert sync.calls == []
        (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("webhook.refused")]
        assert f"reason={reason}" in line and "\n" not in line
        assert "private@example.test" not in caplog.text and SECRET not in caplog.text

    async def test_after_shutdown_deliveries_are_refused_with_503(self, stores: SessionFactory) -> None:
        receiver = wh.WebhookReceiver(SyncRecorder())
        await receiver.shutdown()
        with pytest.raises(wh.WebhooksClosed) as raised:
            await receive(stores, receiver, *signed(order_body(1)))
        assert raised.value.status_code == 503

    async def test_shutdown_waits_for_running_syncs(self, stores: SessionFactory) -> None:
        gate = asyncio.Event()
        sync = SyncRecorder(gate=gate)
        receiver = wh.WebhookReceiver(sync)
        await receive(stores, receiver, *signed(order_body(1)))
        asyncio.get_running_loop().call_later(0.05, gate.set)
        await receiver.shutdown(timeout=PATIENCE)
        assert not receiver.busy and gate.is_set()


# --- installing -----------------------------------------------------------------------------

DELIVERY_URL = "https://wcsync.example.com/api/webhooks/main"


@pytest.fixture
async def fake() -> AsyncIterator[FakeStore]:
    # The credentials tests.factories.make_store gives a store named "main".
    store = FakeStore(
        "main", consumer_key="ck_main_key_0123456789", consumer_secret="cs_main_secret_0123456789"
    )
    yield store
    await store.aclose()


@pytest.fixture
async def clients(fake: FakeStore) -> AsyncIterator[ClientRegistry]:
    registry = ClientRegistry(timeout=5, max_concurrency=2, transport_factory=lambda _: fake.transport())
    yield registry
    await registry.aclose()


@pytest.fixture
async def main_store(session_factory: SessionFactory, fake: FakeStore) -> str:
    async with session_scope(session_factory) as session:
        session.add(make_store("main", role=StoreRole.main, base_url=fake.base_url, auth_mode=AuthMode.basic))
    return "main"


async def install(
    factory: SessionFactory, clients: ClientRegistry, name: str = "main"
) -> wh.WebhooksInstalled:
    async with session_scope(factory) as session:
        store = await repo.get_store(session, name)
        return await wh.install_webhooks(session, clients, store, DELIVERY_URL)


async def stored_secret(factory: SessionFactory, name: str = "main") -> str | None:
    async with session_scope(factory) as session:
        store: Store = await repo.get_store(session, name)
        return store.webhook_secret


class TestInstall:
    async def test_creates_four_webhooks_with_one_alphanumeric_secret_that_wcsync_keeps(
        self, session_factory: SessionFactory, clients: ClientRegistry, fake: FakeStore, main_store: str
    ) -> None:
        result = await install(session_factory, clients)
        assert result.ok and result.errors == []
        assert sorted((w.topic, w.status, w.action) for w in result.webhooks) == sorted(
            (t, "active", "created") for t in wh.ORDER_TOPICS
        )
        hooks = list(fake.webhooks.webhooks.values())
        assert sorted(h.topic for h in hooks) == sorted(wh.ORDER_TOPICS)
        assert {h.name for h in hooks} == {f"wcsync {t}" for t in wh.ORDER_TOPICS}
        assert {h.delivery_url for h in hooks} == {DELIVERY_URL}
        secret = await stored_secret(session_factory)
        assert secret is not None and len(secret) == 40 and secret.isalnum() and secret.isascii()
        assert {h.secret for h in hooks} == {secret}
        assert secret not in repr(result)

    async def test_reinstall_updates_rotates_and_reactivates_rather_than_duplicates(
        self, session_factory: SessionFactory, clients: ClientRegistry, fake: FakeStore, main_store: str
    ) -> None:
        await install(session_factory, clients)
        first_secret = await stored_secret(session_factory)
        ids = {h.topic: h.id for h in fake.webhooks.webhooks.values()}
        fake.webhooks.webhooks[ids["order.updated"]].status = "disabled"  # after failed deliveries
        # Someone else's webhook, and a stray second copy of ours.
        fake.webhooks.create({"name": "ERP", "topic": "order.updated", "delivery_url": "https://erp.test/h"})
        stray = fake.webhooks.create(
            {"name": "wcsync order.created", "topic": "order.created", "delivery_url": "https://old.test/h"}
        )

        result = await install(session_factory, clients)
        assert result.ok
        assert sorted((w.topic, w.id, w.action) for w in result.webhooks) == sorted(
            (t, ids[t], "updated") for t in wh.ORDER_TOPICS
        )
        new_secret = await stored_secret(session_factory)
        assert new_secret and new_secret != first_secret
        hooks = fake.webhooks.webhooks
        assert stray.id not in hooks
        mine = [h for h in hooks.values() if h.name.startswith("wcsync ")]
        assert len(mine) == 4 and {h.status for h in mine} == {"active"}
        assert {h.secret for h in mine} == {new_secret}
        erp = [h for h in hooks.values() if h.name == "ERP"]
        assert len(erp) == 1 and erp[0].secret != new_secret and erp[0].delivery_url == "https://erp.test/h"

    async def test_a_store_that_cannot_list_changes_nothing(
        self, session_factory: SessionFactory, clients: ClientRegistry, fake: FakeStore, main_store: str
    ) -> None:
        await install(session_factory, clients)
        before = await stored_secret(session_factory)
        fake.knobs.down = True
        with pytest.raises(StoreUnavailable):
            await install(session_factory, clients)
        assert await stored_secret(session_factory) == before

    async def test_the_store_check_reports_status_and_fails_on_disabled(
        self, session_factory: SessionFactory, clients: ClientRegistry, fake: FakeStore, main_store: str
    ) -> None:
        async with session_scope(session_factory) as session:
            store = await repo.get_store(session, "main")
        client = clients.get(store)
        ok, detail = await wh.webhook_check(client, store)
        assert ok and "No wcsync webhooks" in detail and "wcsync store webhooks install main" in detail

        await install(session_factory, clients)
        async with session_scope(session_factory) as session:
            store = await repo.get_store(session, "main")
        ok, detail = await wh.webhook_check(client, store)
        assert ok and "order.created active" in detail and "WP-Cron" in detail and "polling" in detail

        hook = next(h for h in fake.webhooks.webhooks.values() if h.topic == "order.updated")
        hook.status = "disabled"
        ok, detail = await wh.webhook_check(client, store)
        assert not ok and "disabled order.updated after failed deliveries" in detail
