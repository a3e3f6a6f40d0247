from __future__ import annotations

from fastapi import APIRouter, status

from app.api.deps import ClientsDep, EngineDep, SessionDep
from app.api.schemas import StoreCheck, StoreCreate, StoreRead, StoreUpdate
from app.sync import repository as repo
from app.sync import stores as service

router = APIRouter(prefix="/stores", tags=["stores"])


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_store(data: StoreCreate, engine: EngineDep) -> StoreRead:
    store, run_id = await service.connect_store(engine, data)
    return StoreRead.of(store).model_copy(update={"full_sync_run_id": run_id})


@router.get("")
async def list_stores(session: SessionDep) -> list[StoreRead]:
    return [StoreRead.of(s) for s in await repo.list_stores(session)]


@router.get("/{name}")
async def get_store(name: str, session: SessionDep) -> StoreRead:
    return StoreRead.of(await repo.get_store(session, name))


@router.patch("/{name}")
async def update_store(name: str, data: StoreUpdate, session: SessionDep) -> StoreRead:
    return StoreRead.of(await service.update_store(session, name, data))


@router.delete("/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_store(name: str, session: SessionDep) -> None:
    await service.delete_store(session, name)


@router.post("/{name}/check")
async def check_store(name: str, session: SessionDep, clients: ClientsDep) -> StoreCheck:
    return await service.check_store(clients, await repo.get_store(session, name))
