from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import EngineDep, PrincipalDep, SessionDep, store_token_allowed
from app.api.errors import responses
from app.api.schemas import (
    NAME_PATTERN,
    EventRead,
    LinkPage,
    LinkRead,
    OrderId,
    OrderSummary,
    OrderSyncRead,
    StoreName,
    link_page_json,
)
from app.models import Direction, LinkState
from app.sync import repository as repo
from app.sync.orderinfo import order_admin_url

router = APIRouter(tags=["orders"])


async def _order_view(session: SessionDep, store: str, order_id: int, run_id: int | None) -> OrderSyncRead:
    source = await repo.get_store(session, store)
    assert source.id is not None
    stores = await repo.store_facts(session)
    names = {sid: facts.name for sid, facts in stores.items()}
    links = await repo.links_for_origins(session, source.id, [order_id])
    if not links:
        # The order may be a replica: show the link that made it.
        links = await repo.links_for_target(session, source.id, order_id)
    events = await repo.events_for_links(session, [ln.id for ln in links if ln.id is not None])
    orders = await repo.order_facts(session, [(ln.origin_store_id, ln.origin_order_id) for ln in links])
    summary = next(iter(orders.values()), None)
    return OrderSyncRead(
        store=store,
        order_id=order_id,
        admin_url=order_admin_url(source.base_url, source.order_storage, order_id),
        order=OrderSummary.of(summary) if summary is not None else None,
        run_id=run_id,
        links=[LinkRead.of(ln, names, stores=stores, orders=orders) for ln in links],
        events=[EventRead.of(e) for e in events],
    )


@router.post(
    "/orders/{store}/{order_id}/sync",
    responses=responses(
        404,
        502,
        s404="No store of that name (`store_not_found`), or no such order on it (`order_not_found`)",
    ),
    openapi_extra=store_token_allowed("Sync Order of its store's orders"),
)
async def sync_order(
    store: StoreName, order_id: OrderId, engine: EngineDep, session: SessionDep, principal: PrincipalDep
) -> OrderSyncRead:
    principal.require_store(store, "run Sync Order")
    run_id, _ = await engine.sync_order(store, order_id)
    return await _order_view(session, store, order_id, run_id)


@router.get(
    "/orders/{store}/{order_id}",
    responses=responses(404, s404="No store of that name (`store_not_found`)"),
    openapi_extra=store_token_allowed("its store's orders"),
)
async def order_links(
    store: StoreName, order_id: OrderId, session: SessionDep, principal: PrincipalDep
) -> OrderSyncRead:
    principal.require_store(store, "read orders")
    return await _order_view(session, store, order_id, None)


@router.get(
    "/links",
    response_model=LinkPage,
    responses=responses(404, s404="No store of that name (`store_not_found`)"),
    openapi_extra=store_token_allowed("links of its store (store= defaults to it)"),
)
async def list_links(
    session: SessionDep,
    principal: PrincipalDep,
    state: LinkState | None = None,
    direction: Direction | None = None,
    store: Annotated[str | None, Query(max_length=64, pattern=NAME_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[
        int,
        Query(
            ge=0,
            le=2_147_483_647,
            description="Links to skip. A deep offset reads every link it skips: page with `before` instead.",
        ),
    ] = 0,
    before: Annotated[
        int | None,
        Query(ge=1, le=2_147_483_647, description="Links older than this id: the last page's `next_before`."),
    ] = None,
) -> Response:
    if principal.store is not None:
        store = store or principal.store
        principal.require_store(store, "list links")
    stores = await repo.store_index(session)
    store_id = stores.id_of(store) if store else None
    links, total = await repo.list_links(
        session,
        state=state,
        direction=direction,
        store_id=store_id,
        limit=limit,
        offset=offset,
        before=before,
    )
    facts = await repo.store_facts(session)
    orders = await repo.order_facts(session, [(ln.origin_store_id, ln.origin_order_id) for ln in links])
    # Serialized here, from plain dicts: returning the model would have FastAPI validate the
    # page again against `response_model` (which stays, for the OpenAPI document).
    body = link_page_json(
        links,
        stores.names,
        stores=facts,
        orders=orders,
        total=total,
        limit=limit,
        offset=offset,
        next_before=links[-1].id if len(links) == limit else None,
    )
    return Response(body, media_type="application/json")
