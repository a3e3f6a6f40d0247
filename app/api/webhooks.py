"""Webhooks: the public delivery endpoint (the signature is the auth, WooCommerce cannot send our
token) and the Bearer-protected routes that install and list our webhooks on a store."""

from __future__ import annotations

import logging
from typing import Annotated, Literal, NoReturn

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from app.api.deps import ClientsDep, EngineDep, SessionDep, authenticate
from app.api.errors import responses
from app.auth import throttle, webhook_throttle
from app.db import session_scope
from app.sync import repository as repo
from app.sync.context import kv
from app.sync.discover import webhooks as service

log = logging.getLogger("wcsync.webhooks")

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])
admin_router = APIRouter(
    prefix="/api/stores",
    tags=["webhooks"],
    dependencies=[Depends(authenticate)],
    responses=responses(401, 403, 404, 413, 422, 429, 502, s404="No store of that name (`store_not_found`)"),
)


def get_receiver(request: Request) -> service.WebhookReceiver:
    receiver: service.WebhookReceiver = request.app.state.webhooks
    return receiver


ReceiverDep = Annotated[service.WebhookReceiver, Depends(get_receiver)]


class DeliveryReceipt(BaseModel):
    ok: Literal[True] = True
    ping: bool | None = None
    scheduled: bool | None = None
    reason: str | None = None

    @classmethod
    def of(cls, receipt: service.Receipt) -> DeliveryReceipt:
        if receipt.ping:
            return cls(ping=True)
        return cls(scheduled=receipt.scheduled, reason=receipt.reason)


class WebhookRead(BaseModel):
    id: int
    topic: str
    status: str
    delivery_url: str
    action: str | None = None


class WebhooksInstalledRead(BaseModel):
    store: str
    ok: bool
    delivery_url: str
    webhooks: list[WebhookRead]
    warnings: list[str]
    errors: list[str]

    @classmethod
    def of(cls, result: service.WebhooksInstalled) -> WebhooksInstalledRead:
        return cls(
            store=result.store,
            ok=result.ok,
            delivery_url=result.delivery_url,
            webhooks=[WebhookRead(**vars(w)) for w in result.webhooks],
            warnings=result.warnings,
            errors=result.errors,
        )


class WebhooksListRead(BaseModel):
    store: str
    delivery_url: str | None
    secret_set: bool
    webhooks: list[WebhookRead]

    @classmethod
    def of(cls, listed: service.WebhooksListed) -> WebhooksListRead:
        return cls(
            store=listed.store,
            delivery_url=listed.delivery_url,
            secret_set=listed.secret_set,
            webhooks=[WebhookRead(**{**vars(w), "action": None}) for w in listed.webhooks],
        )


def _declared_too_large(request: Request) -> bool:
    declared = request.headers.get("content-length", "")
    return declared.isdigit() and int(declared) > service.MAX_BODY_BYTES


async def _unsigned_body(request: Request) -> bytes | None:
    """The body of a delivery without a signature, which can only be a creation ping: None as
    soon as it is longer than one (the rest is not read)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > service.MAX_UNSIGNED_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


# Deliveries to names that are no store are counted under one name (not a valid store name), so
# that a caller inventing names makes one throttle row per address, not one per name.
UNKNOWN_STORE = "?"


async def _refuse(request: Request, store: str, counted_as: str, client: str, reason: str) -> NoReturn:
    """401 for a bad signature, counted against this address for this store (in a unit of work
    of its own); 429 at once if this one starts a lockout."""
    service.log_refused(store, reason, request.headers)
    async with session_scope(request.app.state.session_factory) as session:
        blocked = await webhook_throttle.record_bad_signature(
            session, counted_as, client, request.app.state.throttle_policy
        )
    if blocked > 0:
        log.warning(
            "webhook.lockout %s", kv(store=service.log_name(store), client=client, seconds=round(blocked))
        )
        raise service.TooManyBadSignatures(blocked)
    raise service.BadWebhookSignature()


@router.post(
    "/{store}",
    response_model_exclude_none=True,
    responses={
        202: {"model": DeliveryReceipt, "description": "A sync of the order was scheduled"},
        **responses(
            401,
            413,
            422,
            429,
            503,
            s401="A missing or wrong signature, or an unknown store (`bad_signature`)",
            s413="A body over 10 MiB (`body_too_large`), refused on its Content-Length or as soon as "
            "it passes the limit",
            s422="A signed delivery no WooCommerce sends: JSON nested too deep, an order id past 64 bits "
            "(`invalid_payload`)",
            s429="Too many bad signatures from this address for this store (`too_many_failures`); "
            "refused before the body is read; see Retry-After",
        ),
    },
)
async def receive_webhook(
    store: str, request: Request, response: Response, receiver: ReceiverDep
) -> DeliveryReceipt:
    """A WooCommerce delivery or creation ping. 2xx tells WooCommerce it arrived (202: a sync of
    the order was scheduled; 200 with `reason` when nothing was: a replay is a `duplicate`); 401
    for a missing or wrong signature.

    The body's HMAC is computed as it streams in. Before reading it: a Content-Length over the
    limit is a 413, and an address refused for bad signatures for this store a 429."""
    if _declared_too_large(request):
        raise service.WebhookBodyTooLarge()
    client = throttle.client_key(request.client.host if request.client else None)
    signature = request.headers.get("x-wc-webhook-signature")
    factory = request.app.state.session_factory
    if not signature:
        body = await _unsigned_body(request)
        if body is not None and service.is_ping(request.headers, body):
            log.info("webhook.ping %s", kv(store=service.log_name(store)))
            return DeliveryReceipt(ping=True)
    async with session_scope(factory) as session:
        found = await repo.find_store(session, store)
        counted_as = found.name if found is not None else UNKNOWN_STORE
        wait = await webhook_throttle.seconds_blocked(session, counted_as, client)
    if wait > 0:
        log.warning(
            "webhook.throttled %s", kv(store=service.log_name(store), client=client, retry_after=round(wait))
        )
        raise service.TooManyBadSignatures(wait)
    if not signature:
        await _refuse(request, store, counted_as, client, "missing_signature")
    if found is None or not found.webhook_secret:
        await _refuse(request, store, counted_as, client, "unknown_store" if found is None else "no_secret")
    assert signature is not None and found is not None and found.webhook_secret is not None
    verified = await service.read_signed(request.stream(), found.webhook_secret, signature)
    if verified is None:
        await _refuse(request, store, counted_as, client, "bad_signature")
    assert verified is not None
    async with session_scope(factory) as session:
        current = await repo.find_store(session, store)
        if current is None:  # deleted while the body arrived
            await _refuse(request, store, counted_as, client, "unknown_store")
        assert current is not None
        receipt = await receiver.accept(session, current, request.headers, verified)
    if receipt.scheduled:
        response.status_code = status.HTTP_202_ACCEPTED
    return DeliveryReceipt.of(receipt)


@admin_router.post("/{name}/webhooks")
async def install_webhooks(
    name: str, session: SessionDep, clients: ClientsDep, engine: EngineDep
) -> WebhooksInstalledRead:
    result = await service.install(session, clients, engine.ctx.settings.public_url, name)
    return WebhooksInstalledRead.of(result)


@admin_router.get("/{name}/webhooks")
async def list_webhooks(
    name: str, session: SessionDep, clients: ClientsDep, engine: EngineDep
) -> WebhooksListRead:
    listed = await service.list_installed(session, clients, engine.ctx.settings.public_url, name)
    return WebhooksListRead.of(listed)
