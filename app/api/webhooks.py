"""Webhooks: the public delivery endpoint (the signature is the auth, WooCommerce cannot send our
token) and the Bearer-protected routes that install and list our webhooks on a store."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel

from app.api.deps import ClientsDep, EngineDep, SessionDep, authenticate
from app.api.errors import responses
from app.sync.discover import webhooks as service

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


async def _raw_body(request: Request) -> bytes:
    """The exact bytes WooCommerce signed, read before anything parses them, with a size cap."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > service.MAX_BODY_BYTES:
        raise service.WebhookBodyTooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > service.MAX_BODY_BYTES:
            raise service.WebhookBodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(
    "/{store}",
    response_model_exclude_none=True,
    responses={
        202: {"model": DeliveryReceipt, "description": "A sync of the order was scheduled"},
        **responses(
            401,
            413,
            503,
            s401="A missing or wrong signature, or an unknown store (`bad_signature`)",
            s413="A body over 10 MiB (`body_too_large`)",
        ),
    },
)
async def receive_webhook(
    store: str, request: Request, response: Response, session: SessionDep, receiver: ReceiverDep
) -> DeliveryReceipt:
    """A WooCommerce delivery or creation ping. 2xx tells WooCommerce it arrived (202: a sync of
    the order was scheduled); 401 for a missing or wrong signature."""
    body = await _raw_body(request)
    receipt = await receiver.receive(session, store, request.headers, body)
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
