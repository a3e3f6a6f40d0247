"""WooCommerce webhooks: receiving signed order deliveries, and installing our webhooks on a store.

A delivery only says "look at this order now": it schedules the same work as Sync Order
(discovery and replication of that one order), so polling stays the source of truth and a
missed, late or replayed delivery does no harm (API-NOTES 6, recorded findings 30-36).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import string
from collections.abc import AsyncIterable, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from sqlmodel.ext.asyncio.session import AsyncSession

from app import jsoncodec
from app.errors import InvalidRequest, OrderNotFound, StoreUnavailable, WcsyncError
from app.models import Store
from app.sync import repository as repo
from app.sync.clients import ClientRegistry
from app.sync.context import kv
from app.sync.discover import deliveries
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import WooCommerceError

log = logging.getLogger("wcsync.webhooks")

ORDER_TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored")
WEBHOOK_NAME_PREFIX = "wcsync "
SECRET_LENGTH = 40
SECRET_ALPHABET = string.ascii_letters + string.digits
# wp_safe_remote_request delivers only to these ports (or the site's own port) by default.
WORDPRESS_DELIVERY_PORTS = (80, 443, 8080)
MAX_BODY_BYTES = 10 * 1024 * 1024
# A creation ping (`webhook_id=N`) is the only unsigned body answered; nothing longer is read.
MAX_UNSIGNED_BYTES = 1024
# Order ids are BIGINT columns; WooCommerce's own are unsigned 64-bit, in practice far smaller.
MAX_ORDER_ID = 2**63 - 1
_PING_BODY = re.compile(rb"webhook_id=\d+")
_SAFE_NAME = re.compile(r"[^a-z0-9_-]")


class BadWebhookSignature(WcsyncError):
    """Every refused delivery gets the same answer, whatever the reason: no oracle for a caller
    probing store names or secrets. The reason goes to the log."""

    status_code = 401
    code = "bad_signature"

    def __init__(self) -> None:
        super().__init__("Webhook signature missing or invalid.")


class WebhookBodyTooLarge(WcsyncError):
    status_code = 413
    code = "body_too_large"

    def __init__(self) -> None:
        super().__init__(f"Webhook body larger than {MAX_BODY_BYTES} bytes.")


class WebhookPayloadInvalid(WcsyncError):
    """A signed delivery that no WooCommerce sends: refused at once (422), not scheduled to
    fail in the background."""

    status_code = 422
    code = "invalid_payload"


class TooManyBadSignatures(WcsyncError):
    status_code = 429
    code = "too_many_failures"

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, int(retry_after + 0.999))
        super().__init__(
            f"Too many deliveries with a bad signature from your address for this store: "
            f"wcsync refuses them for {seconds} s."
        )
        self.headers = {"Retry-After": str(seconds)}


class WebhooksClosed(WcsyncError):
    status_code = 503
    code = "shutting_down"

    def __init__(self) -> None:
        super().__init__("wcsync is shutting down; polling will pick this order up.")


class PublicUrlMissing(InvalidRequest):
    def __init__(self, problem: str) -> None:
        super().__init__(
            f"{problem} Set WCSYNC_PUBLIC_URL to the URL the stores use to reach wcsync "
            "(e.g. https://wcsync.example.com) and install the webhooks again."
        )


# --- signatures and payloads (pure) ---------------------------------------------------------


def sign(body: bytes, secret: str) -> str:
    """``X-WC-Webhook-Signature``: base64 of the raw binary HMAC-SHA256 of the exact body bytes.

    WooCommerce HTML-entity-decodes the secret first; ours are alphanumeric, so that is a no-op."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def signature_valid(body: bytes, secret: str, signature: str) -> bool:
    return hmac.compare_digest(sign(body, secret).encode(), signature.strip().encode())


async def read_signed(chunks: AsyncIterable[bytes], secret: str, signature: str) -> bytes | None:
    """Read a body as it arrives, computing its HMAC on the way, up to MAX_BODY_BYTES (then
    WebhookBodyTooLarge, without reading on). The body if the signature matches, else None."""
    mac = hmac.new(secret.encode(), digestmod=hashlib.sha256)
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise WebhookBodyTooLarge()
        mac.update(chunk)
        parts.append(chunk)
    expected = base64.b64encode(mac.digest())
    if not hmac.compare_digest(expected, signature.strip().encode()):
        return None
    return b"".join(parts)


def is_ping(headers: Mapping[str, str], body: bytes) -> bool:
    """WooCommerce's creation ping: form-encoded ``webhook_id=N``, no signature (finding 31)."""
    return "x-wc-webhook-signature" not in headers and _PING_BODY.fullmatch(body.strip()) is not None


def new_secret() -> str:
    """40 letters and digits: WooCommerce HTML-decodes secrets, so specials are a trap (6.4)."""
    return "".join(secrets.choice(SECRET_ALPHABET) for _ in range(SECRET_LENGTH))


@dataclass(frozen=True)
class OrderChange:
    order_id: int
    modified_gmt: str | None  # None for order.deleted, whose payload is just {"id": N}


@dataclass(frozen=True)
class Ignored:
    reason: str
    detail: str = ""


def read_delivery(topic: str, body: bytes) -> OrderChange | Ignored:
    """What a verified delivery asks for: one order to look at, or nothing (with the reason).
    Raises WebhookPayloadInvalid for what no WooCommerce sends (JSON nested past the parsers'
    depth, an order id past 64 bits)."""
    if topic not in ORDER_TOPICS:
        return Ignored("unknown_topic", topic[:64])
    try:
        payload = jsoncodec.loads_exact(body)
    except jsoncodec.JSONTooDeep as exc:
        raise WebhookPayloadInvalid("The delivery's JSON is nested too deep to read.") from exc
    except ValueError:
        return Ignored("not_json")
    if not isinstance(payload, dict):
        return Ignored("not_an_object")
    order_id = payload.get("id")
    if order_id is None and isinstance(payload.get("code"), str):
        # Payloads are built at delivery time: an order deleted meanwhile gives the REST error.
        return Ignored("rest_error", str(payload["code"])[:100])
    if not isinstance(order_id, int) or isinstance(order_id, bool) or order_id <= 0:
        return Ignored("no_order_id")
    if order_id > MAX_ORDER_ID:
        raise WebhookPayloadInvalid(f"The delivery's order id is larger than {MAX_ORDER_ID}.")
    modified = payload.get("date_modified_gmt")
    return OrderChange(order_id=order_id, modified_gmt=modified if isinstance(modified, str) else None)


def log_name(name: str) -> str:
    """A store name from the URL, safe for a log line (it comes from whoever calls us)."""
    return _SAFE_NAME.sub("?", name[:64].lower()) or "-"


def log_refused(store_name: str, reason: str, headers: Mapping[str, str]) -> None:
    """One line per refused delivery, with the reason the caller is not told; never the body."""
    log.warning(
        "webhook.refused %s",
        kv(
            store=log_name(store_name), reason=reason, webhook=headers.get("x-wc-webhook-id", "")[:20] or None
        ),
    )


# --- receiving ------------------------------------------------------------------------------

SyncOrder = Callable[[str, int], Awaitable[object]]


@dataclass(frozen=True)
class Receipt:
    scheduled: bool = False
    ping: bool = False
    reason: str | None = None


class WebhookReceiver:
    """Verifies deliveries and schedules ``sync_order`` for the orders they name, in background
    tasks that the app's shutdown waits for.

    De-duplication is by (store, order id, ``date_modified_gmt``), never by the delivery id (not
    unique, finding 33), in the ledger (`deliveries`): a replay is recognised by every process
    and after a restart. Deliveries for an order whose sync is still running are folded into
    one more run after it, so a newer change is never skipped because the first run held the
    order's links.
    """

    def __init__(self, sync_order: SyncOrder) -> None:
        self._sync_order = sync_order
        self._running: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._again: set[tuple[str, int]] = set()
        self._closed = False

    @property
    def busy(self) -> bool:
        return bool(self._running)

    async def receive(
        self, session: AsyncSession, store_name: str, headers: Mapping[str, str], body: bytes
    ) -> Receipt:
        """Answer one delivery read whole. Raises BadWebhookSignature before the body is looked
        at. (The HTTP route reads and verifies as the body streams in, then calls `accept`.)"""
        headers = {k.lower(): v for k, v in headers.items()}
        if is_ping(headers, body):
            log.info("webhook.ping %s", kv(store=log_name(store_name)))
            return Receipt(ping=True)
        store = await repo.find_store(session, store_name)
        signature = headers.get("x-wc-webhook-signature")
        reason = None
        if store is None:
            reason = "unknown_store"
        elif not store.webhook_secret:
            reason = "no_secret"
        elif not signature:
            reason = "missing_signature"
        elif not signature_valid(body, store.webhook_secret, signature):
            reason = "bad_signature"
        if reason is not None or store is None:
            log_refused(store_name, reason or "unknown_store", headers)
            raise BadWebhookSignature()
        return await self.accept(session, store, headers, body)

    async def accept(
        self, session: AsyncSession, store: Store, headers: Mapping[str, str], body: bytes
    ) -> Receipt:
        """Act on a delivery whose signature was verified: schedule its order, unless the
        delivery is ignored or was already accepted."""
        headers = {k.lower(): v for k, v in headers.items()}
        topic = headers.get("x-wc-webhook-topic", "")
        try:
            what = read_delivery(topic, body)
        except WebhookPayloadInvalid as exc:
            log.warning(
                "webhook.invalid %s", kv(store=store.name, topic=topic[:64] or "-", problem=exc.message)
            )
            raise
        if isinstance(what, Ignored):
            log.info(
                "webhook.ignored %s",
                kv(store=store.name, topic=topic[:64] or "-", reason=what.reason, detail=what.detail or None),
            )
            return Receipt(reason=what.reason)
        if not store.enabled:
            log.info("webhook.ignored %s", kv(store=store.name, order=what.order_id, reason="store_disabled"))
            return Receipt(reason="store_disabled")
        assert store.id is not None
        change = what.modified_gmt if what.modified_gmt is not None else deliveries.DELETED
        if not await deliveries.first_time(session, store.id, what.order_id, change):
            log.info("webhook.duplicate %s", kv(store=store.name, topic=topic, order=what.order_id))
            return Receipt(reason="duplicate")
        self._schedule(store.name, what.order_id)
        log.info(
            "webhook.scheduled %s",
            kv(store=store.name, topic=topic, order=what.order_id, modified=what.modified_gmt),
        )
        return Receipt(scheduled=True)

    def _schedule(self, store: str, order_id: int) -> None:
        if self._closed:
            raise WebhooksClosed()
        key = (store, order_id)
        if key in self._running:
            self._again.add(key)
            return
        task = asyncio.create_task(self._sync(key), name=f"wcsync-webhook-{store}-{order_id}")
        self._running[key] = task

    async def _sync(self, key: tuple[str, int]) -> None:
        store, order_id = key
        try:
            while True:
                self._again.discard(key)
                try:
                    await self._sync_order(store, order_id)
                except OrderNotFound:
                    log.info("webhook.sync.gone %s", kv(store=store, order=order_id))
                except Exception as exc:  # never raised anywhere: polling retries the order
                    log.warning(
                        "webhook.sync.failed %s",
                        kv(store=store, order=order_id, error=f"{type(exc).__name__}: {exc}"),
                    )
                if key not in self._again:
                    break
        finally:
            self._running.pop(key, None)
            self._again.discard(key)

    async def wait_idle(self) -> None:
        """Wait for every scheduled sync (tests, shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running.values()), return_exceptions=True)

    async def shutdown(self, timeout: float = 30.0) -> None:
        """Refuse new deliveries, let running syncs finish (bounded), cancel the rest."""
        self._closed = True
        pending = list(self._running.values())
        if not pending:
            return
        _, still = await asyncio.wait(pending, timeout=timeout)
        for task in still:
            task.cancel()
        await asyncio.gather(*still, return_exceptions=True)


# --- installing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookState:
    id: int
    topic: str
    status: str
    delivery_url: str
    action: str = "found"  # created | updated | found


@dataclass
class WebhooksInstalled:
    store: str
    delivery_url: str
    webhooks: list[WebhookState]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and {w.topic for w in self.webhooks} == set(ORDER_TOPICS)


@dataclass
class WebhooksListed:
    store: str
    delivery_url: str | None
    secret_set: bool
    webhooks: list[WebhookState]


def webhook_name(topic: str) -> str:
    return f"{WEBHOOK_NAME_PREFIX}{topic}"


def delivery_url_for(public_url: str, store: str) -> tuple[str, list[str]]:
    """Our delivery URL for `store`, and warnings about URLs stock WordPress will not deliver to."""
    base = public_url.strip().rstrip("/")
    if not base:
        raise PublicUrlMissing("WCSYNC_PUBLIC_URL is empty, so the stores have no URL to deliver to.")
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublicUrlMissing(f"WCSYNC_PUBLIC_URL {base!r} is not an http(s) URL.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise PublicUrlMissing(f"WCSYNC_PUBLIC_URL {base!r} has an invalid port.") from exc
    warnings: list[str] = []
    if port not in WORDPRESS_DELIVERY_PORTS:
        warnings.append(
            f"The delivery URL uses port {port}: stock WordPress delivers webhooks only to ports "
            "80, 443 and 8080 (or the site's own port) and will refuse it. Put wcsync behind a "
            "reverse proxy on one of those ports."
        )
    if _private_host(parts.hostname):
        warnings.append(
            f"The delivery host {parts.hostname} is local or private: stock WordPress refuses such "
            "hosts unless the site allows them with the http_request_host_is_external filter."
        )
    return f"{base}/api/webhooks/{store}", warnings


def _private_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_private or address.is_loopback or address.is_link_local


def _state(hook: dict[str, Any], action: str = "found") -> WebhookState:
    return WebhookState(
        id=int(hook.get("id") or 0),
        topic=str(hook.get("topic") or ""),
        status=str(hook.get("status") or ""),
        delivery_url=str(hook.get("delivery_url") or ""),
        action=action,
    )


def ours(hooks: list[dict[str, Any]], delivery_url: str | None = None) -> list[dict[str, Any]]:
    """The store's webhooks that wcsync made: an order topic, and our name or our URL."""
    return sorted(
        (
            h
            for h in hooks
            if h.get("topic") in ORDER_TOPICS
            and (
                h.get("name") == webhook_name(str(h.get("topic")))
                or (delivery_url is not None and h.get("delivery_url") == delivery_url)
            )
        ),
        key=lambda h: int(h.get("id") or 0),
    )


async def install_webhooks(
    session: AsyncSession, clients: ClientRegistry, store: Store, delivery_url: str
) -> WebhooksInstalled:
    """Create, or update and re-activate, the four order webhooks on `store`, all signed with a
    new alphanumeric secret that wcsync keeps in `store.webhook_secret` (WooCommerce never
    returns it). Extra copies of ours are deleted so that each event is delivered once.

    If listing fails nothing changes. If a write fails half-way, the new secret is kept all the
    same (it is the one on every webhook that was written) and the error is reported: running
    the install again repairs the rest. Deliveries signed with the old secret that arrive
    between the first update and the commit are refused; polling covers them.
    """
    client = clients.get(store)
    try:
        existing = await client.list_webhooks()
    except WooCommerceError as exc:
        raise StoreUnavailable(f"Could not list the webhooks of store {store.name!r}: {exc}") from exc
    secret = new_secret()
    mine = ours(existing, delivery_url)
    result = WebhooksInstalled(store=store.name, delivery_url=delivery_url, webhooks=[])
    wrote = False
    for topic in ORDER_TOPICS:
        same_topic = [h for h in mine if h.get("topic") == topic]
        payload = {
            "name": webhook_name(topic),
            "topic": topic,
            "delivery_url": delivery_url,
            "secret": secret,
            "status": "active",
        }
        try:
            if same_topic:
                keep, *extra = same_topic
                hook = await client.update_webhook(int(keep["id"]), payload)
                wrote = True
                result.webhooks.append(_state(hook, "updated"))
                for duplicate in extra:
                    await client.delete_webhook(int(duplicate["id"]))
                    log.info("webhook.install.deleted_duplicate %s", kv(store=store.name, id=duplicate["id"]))
            else:
                hook = await client.create_webhook(payload)
                wrote = True
                result.webhooks.append(_state(hook, "created"))
        except WooCommerceError as exc:
            result.errors.append(f"{topic}: {exc}")
            log.warning(
                "webhook.install.failed %s", kv(store=store.name, topic=topic, error=type(exc).__name__)
            )
    if wrote:
        store.webhook_secret = secret
        await session.flush()
    log.info(
        "webhook.install %s",
        kv(
            store=store.name,
            created=sum(w.action == "created" for w in result.webhooks),
            updated=sum(w.action == "updated" for w in result.webhooks),
            errors=len(result.errors),
        ),
    )
    return result


async def install(
    session: AsyncSession, clients: ClientRegistry, public_url: str, store_name: str
) -> WebhooksInstalled:
    """`POST /api/stores/{name}/webhooks`: check our public URL, then install_webhooks."""
    store = await repo.get_store(session, store_name)
    delivery_url, warnings = delivery_url_for(public_url, store.name)
    result = await install_webhooks(session, clients, store, delivery_url)
    result.warnings = warnings + result.warnings
    return result


async def list_installed(
    session: AsyncSession, clients: ClientRegistry, public_url: str, store_name: str
) -> WebhooksListed:
    """Our webhooks as the store reports them now (status, URL); never the secret."""
    store = await repo.get_store(session, store_name)
    delivery_url = None
    if public_url.strip():
        try:
            delivery_url = delivery_url_for(public_url, store.name)[0]
        except PublicUrlMissing:
            delivery_url = None
    try:
        hooks = await clients.get(store).list_webhooks()
    except WooCommerceError as exc:
        raise StoreUnavailable(f"Could not list the webhooks of store {store.name!r}: {exc}") from exc
    return WebhooksListed(
        store=store.name,
        delivery_url=delivery_url,
        secret_set=bool(store.webhook_secret),
        webhooks=[_state(h) for h in ours(hooks, delivery_url)],
    )


DELIVERY_NOTE = (
    "WooCommerce queues deliveries for WP-Cron / Action Scheduler, so on an idle site they can "
    "be minutes late; polling stays on as the safety net."
)


async def webhook_check(client: WooCommerceClient, store: Store) -> tuple[bool, str]:
    """The store check's `webhooks` item: each of our webhooks' status; not ok when WooCommerce
    has disabled one after failed deliveries."""
    try:
        hooks = ours(await client.list_webhooks())
    except WooCommerceError as exc:
        if not store.webhook_secret:
            return True, f"No wcsync webhooks known (could not list them: {exc}); polling only."
        return False, f"Could not list the store's webhooks: {exc}"
    if not hooks:
        return True, (
            "No wcsync webhooks: changes arrive by polling only. "
            f"`wcsync store webhooks install {store.name}` makes them near-instant."
        )
    listed = ", ".join(f"{h.get('topic')} {h.get('status')} (#{h.get('id')})" for h in hooks)
    problems: list[str] = []
    disabled = [str(h.get("topic")) for h in hooks if h.get("status") == "disabled"]
    if disabled:
        problems.append(
            f"WooCommerce disabled {', '.join(disabled)} after failed deliveries; check that the "
            f"store can reach wcsync, then run `wcsync store webhooks install {store.name}`."
        )
    missing = sorted(set(ORDER_TOPICS) - {str(h.get("topic")) for h in hooks})
    if missing:
        problems.append(f"Missing: {', '.join(missing)}.")
    if not store.webhook_secret:
        problems.append("wcsync holds no secret for them, so every delivery is refused: install again.")
    detail = " ".join([f"{listed}.", *problems, DELIVERY_NOTE])
    return not problems, detail
