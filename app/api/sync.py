from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.api.deps import EngineDep, SessionDep
from app.api.schemas import Pending, RunAccepted, RunRead, SyncRequest
from app.models import RunKind, SyncMode
from app.sync import repository as repo

router = APIRouter(tags=["sync"])


@router.get("/pending")
async def pending(session: SessionDep) -> Pending:
    return Pending(**await repo.pending_counts(session))


@router.post("/sync", status_code=status.HTTP_202_ACCEPTED, response_model=None)
async def sync_now(
    engine: EngineDep,
    response: Response,
    request: SyncRequest | None = None,
    wait: Annotated[bool, Query(description="Answer when the run has ended.")] = False,
) -> RunAccepted | RunRead:
    request = request or SyncRequest()
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
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RunRead]:
    return [RunRead.of(r) for r in await repo.list_runs(session, limit=limit, offset=offset)]


@router.get("/runs/{run_id}")
async def get_run(run_id: int, session: SessionDep) -> RunRead:
    return RunRead.of(await repo.get_run(session, run_id))
