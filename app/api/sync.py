from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response, status

from app.api.deps import EngineDep, PrincipalDep, SessionDep, store_token_allowed
from app.api.errors import responses
from app.api.schemas import Offset, Pending, RunAccepted, RunId, RunRead, SyncRequest
from app.errors import Forbidden
from app.models import RunKind, StoreRole, SyncMode
from app.sync import repository as repo

router = APIRouter(tags=["sync"])


@router.get("/pending", openapi_extra=store_token_allowed("all"))
async def pending(session: SessionDep) -> Pending:
    return Pending(**await repo.pending_counts(session))


@router.post(
    "/sync",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=None,
    responses={
        200: {"model": RunRead, "description": "With `wait=true`: the run, ended"},
        **responses(404, s404="No store of that name (`store_not_found`)"),
    },
    openapi_extra=store_token_allowed("Sync Now (smart) of its store; the main store's token, of all"),
)
async def sync_now(
    engine: EngineDep,
    session: SessionDep,
    response: Response,
    principal: PrincipalDep,
    # Optional, but not nullable: no body is "everything, both ways"; a body of `null` is a
    # mistake, refused with 422 rather than read as the widest sync there is.
    request: Annotated[
        SyncRequest,
        Body(
            default_factory=SyncRequest,
            description="Omit the body for a Sync Now of everything in both directions.",
        ),
    ],
    wait: Annotated[bool, Query(description="Answer when the run has ended.")] = False,
) -> RunAccepted | RunRead:
    if principal.store is not None:
        if request.mode != "smart":
            raise Forbidden("A store token may run Sync Now only; a Full sync needs the admin token.")
        token_store = await repo.get_store(session, principal.store)
        # A sub-store's plugin syncs its own store; the main store's plugin syncs everything.
        if token_store.role != StoreRole.main:
            request = request.model_copy(update={"store": request.store or principal.store})
            principal.require_store(request.store, "run Sync Now")
    run, new = await engine.request_run(
        kind=RunKind.sync_now,
        direction=request.direction,
        store=request.store,
        mode=SyncMode(request.mode),
        since=request.since,
    )
    assert run.id is not None
    if wait:
        response.status_code = status.HTTP_200_OK
        return RunRead.of(await engine.wait(run.id))
    return RunAccepted(run_id=run.id, status=run.status, new=new)


@router.get("/runs")
async def list_runs(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: Offset = 0,
) -> list[RunRead]:
    return [RunRead.of(r) for r in await repo.list_runs(session, limit=limit, offset=offset)]


@router.get(
    "/runs/{run_id}",
    responses=responses(404, s404="No run with that id (`run_not_found`)"),
    openapi_extra=store_token_allowed("runs of its store; the main store's token, all runs"),
)
async def get_run(run_id: RunId, session: SessionDep, principal: PrincipalDep) -> RunRead:
    run = await repo.get_run(session, run_id)
    if principal.store is not None and run.store_name != principal.store:
        token_store = await repo.get_store(session, principal.store)
        if token_store.role != StoreRole.main:
            principal.require_store(run.store_name, "read runs")
    return RunRead.of(run)
