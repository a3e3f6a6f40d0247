from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from app.api.deps import ClientsDep, EngineDep, PrincipalDep, SessionDep, store_token_allowed
from app.api.errors import responses
from app.api.schemas import StoreCheck, StoreCreate, StoreName, StoreRead, StoreUpdate, link_local
from app.config import Settings
from app.errors import InvalidRequest
from app.sync import repository as repo
from app.sync import stores as service

router = APIRouter(prefix="/stores", tags=["stores"])

_NOT_FOUND = responses(404, s404="No store of that name (`store_not_found`)")

# What a client (and schemathesis's stateful phase) can do next with the store just created.
_BY_NAME = {"name": "$response.body#/name"}
_CREATED_LINKS = {
    "GetStore": {"operationId": "get_store_api_stores__name__get", "parameters": _BY_NAME},
    "UpdateStore": {"operationId": "update_store_api_stores__name__patch", "parameters": _BY_NAME},
    "CheckStore": {"operationId": "check_store_api_stores__name__check_post", "parameters": _BY_NAME},
    "DeleteStore": {"operationId": "delete_store_api_stores__name__delete", "parameters": _BY_NAME},
}


def _refuse_link_local(base_url: str | None, settings: Settings) -> None:
    """Cloud metadata services answer on link-local addresses: a store URL there would make
    wcsync fetch them with the store's credentials, and show what they say in its errors."""
    if base_url and link_local(base_url) and not settings.allow_link_local_urls:
        raise InvalidRequest(
            "base_url is a link-local address (169.254.0.0/16 or fe80::/10), where cloud metadata "
            "services answer; set WCSYNC_ALLOW_LINK_LOCAL_URLS=true if a store really lives there.",
            field="base_url",
        )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        201: {"description": "The store, added", "links": _CREATED_LINKS},
        **responses(
            409,
            422,
            s409="The name is taken (`store_exists`), or there is already a main store (`main_store_exists`)",
            s422="Invalid input (`invalid_request`), or with `check=true` a failed store check "
            "(`store_check_failed`, with `checks`)",
        ),
    },
)
async def create_store(
    data: StoreCreate,
    engine: EngineDep,
    clients: ClientsDep,
    check: Annotated[
        bool,
        Query(description="Run the store check first and refuse the store (422) if any check fails."),
    ] = False,
) -> StoreRead:
    _refuse_link_local(data.base_url, engine.ctx.settings)
    new = service.NewStore(**data.model_dump())
    store, run_id = await service.connect_store(engine, new, clients=clients if check else None)
    return StoreRead.of(store).model_copy(update={"full_sync_run_id": run_id})


@router.get("")
async def list_stores(session: SessionDep) -> list[StoreRead]:
    return [StoreRead.of(s) for s in await repo.list_stores(session)]


@router.get("/{name}", responses=_NOT_FOUND, openapi_extra=store_token_allowed("its own store"))
async def get_store(name: StoreName, session: SessionDep, principal: PrincipalDep) -> StoreRead:
    principal.require_store(name, "read a store")
    return StoreRead.of(await repo.get_store(session, name))


@router.patch("/{name}", responses=_NOT_FOUND)
async def update_store(
    name: StoreName, data: StoreUpdate, session: SessionDep, engine: EngineDep
) -> StoreRead:
    _refuse_link_local(data.base_url, engine.ctx.settings)
    return StoreRead.of(await service.update_store(session, name, data.model_dump(exclude_unset=True)))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT, responses=_NOT_FOUND)
async def delete_store(name: StoreName, session: SessionDep) -> None:
    await service.delete_store(session, name)


@router.post("/{name}/check", responses=_NOT_FOUND)
async def check_store(name: StoreName, session: SessionDep, clients: ClientsDep) -> StoreCheck:
    return StoreCheck.of(await service.check_store(clients, await repo.get_store(session, name)))
