"""Webhooks of a fake store: the REST resource and WooCommerce-style delivery.

Deliveries are queued like Action Scheduler does it: one pending delivery per (webhook,
resource), sent after ``webhook_delay_seconds``, with the payload built at delivery time
(API-NOTES 6.2/6.6). Bodies are PHP JSON, signed ``base64(HMAC-SHA256(body, secret))``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.testing.errors import WPError
from app.testing.phpcompat import php_json_dumps, wp_specialchars_decode
from app.testing.state import WC_VERSION, WP_VERSION, StoreState

log = logging.getLogger(__name__)

USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"
# WooCommerce 7.8's hooks per topic; ``order.updated`` matches recording 36a.
TOPIC_HOOKS: dict[str, list[str]] = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "order.deleted": ["wp_trash_post"],
    "order.restored": ["untrashed_post"],
    "product.created": ["woocommerce_process_product_meta", "woocommerce_new_product"],
    "product.updated": ["woocommerce_process_product_meta", "woocommerce_update_product"],
    "product.deleted": ["wp_trash_post"],
    "product.restored": ["untrashed_post"],
    "customer.created": ["user_register", "woocommerce_created_customer", "woocommerce_new_customer"],
    "customer.updated": ["profile_update", "woocommerce_update_customer"],
    "customer.deleted": ["delete_user"],
    "coupon.created": ["woocommerce_process_shop_coupon_meta", "woocommerce_new_coupon"],
    "coupon.updated": ["woocommerce_process_shop_coupon_meta", "woocommerce_update_coupon"],
    "coupon.deleted": ["wp_trash_post"],
    "coupon.restored": ["untrashed_post"],
}
WEBHOOK_STATUSES = ("active", "paused", "disabled")
MAX_DELIVERY_FAILURES = 5


def sign_webhook_body(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature`` for a raw body: base64 of the binary HMAC-SHA256."""
    key = wp_specialchars_decode(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


@dataclass
class Webhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    date_created: str
    date_modified: str | None = None
    failure_count: int = 0

    @property
    def resource(self) -> str:
        return self.topic.split(".", 1)[0] if "." in self.topic else "action"

    @property
    def event(self) -> str:
        return self.topic.split(".", 1)[1] if "." in self.topic else self.topic

    def view(self, base_url: str) -> dict[str, Any]:
        """The REST resource; ``secret`` is write-only and never shown (36a-c)."""
        hooks = TOPIC_HOOKS.get(self.topic)
        if hooks is None and self.topic.startswith("action."):
            hooks = [self.topic[len("action.") :]]
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": self.topic,
            "resource": self.resource,
            "event": self.event,
            "hooks": hooks or [],
            "delivery_url": self.delivery_url,
            "date_created": self.date_created,
            "date_created_gmt": self.date_created,
            "date_modified": self.date_modified,
            "date_modified_gmt": self.date_modified,
            "_links": {
                "self": [{"href": f"{base_url}/wp-json/wc/v3/webhooks/{self.id}"}],
                "collection": [{"href": f"{base_url}/wp-json/wc/v3/webhooks"}],
            },
        }


@dataclass
class Delivery:
    """One delivery attempt as the fake made it, for tests to inspect."""

    webhook_id: int
    topic: str
    url: str
    body: str
    headers: dict[str, str]
    status_code: int | None
    error: str | None
    at: str


@dataclass
class WebhookManager:
    state: StoreState
    clock: Callable[[], datetime]
    delay_seconds: Callable[[], float]
    transport: Callable[[], httpx.AsyncBaseTransport | None]
    salt: str
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    _next_id: int = 1
    _pending: set[tuple[int, int]] = field(default_factory=set)
    _unscheduled: list[tuple[int, int, str]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    # ------------------------------------------------------------ resource

    def create(self, body: dict[str, Any]) -> Webhook:
        missing = [name for name in ("topic", "delivery_url") if not body.get(name)]
        if "topic" in missing:
            raise WPError(
                "woocommerce_rest_webhook_invalid_topic",
                "Webhook topic is required and must be valid.",
                400,
            )
        topic = str(body["topic"])
        if topic not in TOPIC_HOOKS and not topic.startswith("action."):
            raise WPError(
                "woocommerce_rest_webhook_invalid_topic",
                "Webhook topic is required and must be valid.",
                400,
            )
        if "delivery_url" in missing:
            raise WPError(
                "woocommerce_rest_webhook_invalid_delivery_url",
                "Webhook delivery URL must be a valid URL starting with http:// or https://.",
                400,
            )
        now_dt = self.clock()
        now = now_dt.strftime("%Y-%m-%dT%H:%M:%S")
        secret = body.get("secret")
        if not secret:
            # wp_generate_password(50, true, true): specials included, which is why you should
            # always send your own secret.
            alphabet = string.ascii_letters + string.digits + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
            secret = "".join(self.state.rng.choice(alphabet) for _ in range(50))
        webhook = Webhook(
            id=self._next_id,
            name=str(body.get("name") or f"Webhook created on {now_dt.strftime('%b %d, %Y @ %I:%M %p')}"),
            status=str(body.get("status") or "active"),
            topic=topic,
            delivery_url=str(body["delivery_url"]),
            secret=str(secret),
            date_created=now,
        )
        self._next_id += 1
        self.webhooks[webhook.id] = webhook
        return webhook

    def get(self, webhook_id: int) -> Webhook:
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise WPError("woocommerce_rest_shop_webhook_invalid_id", "Invalid ID.", 404)
        return webhook

    def update(self, webhook_id: int, body: dict[str, Any]) -> Webhook:
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            raise WPError("woocommerce_rest_shop_webhook_invalid_id", "ID is invalid.", 400)
        if "topic" in body:
            topic = str(body["topic"])
            if topic not in TOPIC_HOOKS and not topic.startswith("action."):
                raise WPError(
                    "woocommerce_rest_webhook_invalid_topic",
                    "Webhook topic is required and must be valid.",
                    400,
                )
            webhook.topic = topic
        for name in ("name", "delivery_url", "secret", "status"):
            if name in body and body[name] is not None:
                setattr(webhook, name, str(body[name]))
        if body.get("status") == "active":
            webhook.failure_count = 0
        webhook.date_modified = self.clock().strftime("%Y-%m-%dT%H:%M:%S")
        return webhook

    def delete(self, webhook_id: int, *, force: bool) -> Webhook:
        if not force:
            raise WPError("woocommerce_rest_trash_not_supported", "Webhooks do not support trashing.", 501)
        webhook = self.get(webhook_id)
        del self.webhooks[webhook_id]
        return webhook

    # ------------------------------------------------------------ delivery

    def _off_loopback(self, url: str) -> str | None:
        """Why a request to `url` is not sent, or None. Without a transport of its own the fake
        store sends only to loopback: tests and benchmarks never leave 127.0.0.1, and a name
        lookup on a machine without a network can hang for seconds."""
        if self.transport() is not None:
            return None
        host = urlsplit(url).hostname or ""
        if host == "localhost" or _is_loopback_ip(host):
            return None
        return f"not sent: the fake store delivers only to loopback, not to {host or url!r}"

    async def ping(self, webhook: Webhook) -> None:
        """The unsigned, form-encoded ping sent on creation; its outcome is ignored (36a)."""
        headers = {"User-Agent": self.user_agent(), "Referer": webhook.delivery_url}
        refused = self._off_loopback(webhook.delivery_url)
        if refused is not None:
            log.info("fake.webhook.ping_failed webhook=%s error=%s", webhook.id, refused)
            return
        try:
            async with httpx.AsyncClient(transport=self.transport(), timeout=5.0) as client:
                await client.post(
                    webhook.delivery_url,
                    content=f"webhook_id={webhook.id}",
                    headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
                )
        except httpx.HTTPError as exc:
            log.info("fake.webhook.ping_failed webhook=%s error=%r", webhook.id, exc)

    def on_order_event(self, event: str, order_id: int) -> None:
        topic = f"order.{event}"
        for webhook in self.webhooks.values():
            if webhook.topic != topic or webhook.status != "active":
                continue
            key = (webhook.id, order_id)
            if key in self._pending:
                # Action Scheduler already holds a delivery for this resource: bursts collapse.
                continue
            self._pending.add(key)
            self._unscheduled.append((webhook.id, order_id, topic))
        self.schedule_pending()

    def schedule_pending(self) -> None:
        """Start queued deliveries; a no-op outside a running event loop (picked up later)."""
        if not self._unscheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        queued, self._unscheduled = self._unscheduled, []
        for webhook_id, order_id, topic in queued:
            task = loop.create_task(self._deliver_later(webhook_id, order_id, topic))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _deliver_later(self, webhook_id: int, order_id: int, topic: str) -> None:
        delay = self.delay_seconds()
        if delay > 0:
            await asyncio.sleep(delay)
        self._pending.discard((webhook_id, order_id))
        webhook = self.webhooks.get(webhook_id)
        if webhook is None:
            return
        await self.deliver(webhook, order_id, topic)

    def user_agent(self) -> str:
        woocommerce, wordpress = self.state.release
        return f"WooCommerce/{woocommerce} Hookshot (WordPress/{wordpress})"

    def payload(self, order_id: int, topic: str) -> dict[str, Any]:
        if topic == "order.deleted":
            return {"id": order_id}
        order = self.state.orders.get(order_id)
        if order is None:
            # The order is gone by delivery time: the body is the REST error (PR #68698).
            return {
                "code": "woocommerce_rest_shop_order_invalid_id",
                "message": "Invalid ID.",
                "data": {"status": 404},
            }
        return self.state.present_order(order)

    async def deliver(self, webhook: Webhook, order_id: int, topic: str) -> Delivery:
        body = php_json_dumps(self.payload(order_id, topic))
        raw = body.encode("utf-8")
        moment = self.clock()
        delivery_id = hmac.new(
            self.salt.encode(), f"{webhook.id}{int(moment.timestamp())}".encode(), hashlib.md5
        ).hexdigest()
        headers = {
            "User-Agent": self.user_agent(),
            "Referer": webhook.delivery_url,
            "Content-Type": "application/json",
            "X-WC-Webhook-Source": f"{self.state.base_url}/",
            "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": webhook.resource,
            "X-WC-Webhook-Event": webhook.event,
            "X-WC-Webhook-Signature": sign_webhook_body(raw, webhook.secret),
            "X-WC-Webhook-ID": str(webhook.id),
            "X-WC-Webhook-Delivery-ID": delivery_id,
        }
        status_code: int | None = None
        error = self._off_loopback(webhook.delivery_url)
        if error is None:
            try:
                async with httpx.AsyncClient(transport=self.transport(), timeout=60.0) as client:
                    response = await client.post(webhook.delivery_url, content=raw, headers=headers)
                    status_code = response.status_code
            except httpx.HTTPError as exc:
                error = repr(exc)
        # 200-302 count as success; anything else, timeouts included, as a failure. A failure
        # that finds more than five before it disables the webhook (WC_Webhook::failed_delivery),
        # so the 7th in a row does. No retries.
        if status_code is not None and 200 <= status_code < 303:
            webhook.failure_count = 0
        elif webhook.failure_count > MAX_DELIVERY_FAILURES:
            webhook.status = "disabled"
        else:
            webhook.failure_count += 1
        delivery = Delivery(
            webhook_id=webhook.id,
            topic=topic,
            url=webhook.delivery_url,
            body=body,
            headers=headers,
            status_code=status_code,
            error=error,
            at=moment.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        self.deliveries.append(delivery)
        return delivery

    async def drain(self) -> None:
        """Wait until every queued delivery has been attempted."""
        self.schedule_pending()
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            self.schedule_pending()

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        self._pending.clear()
        self._unscheduled.clear()


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
