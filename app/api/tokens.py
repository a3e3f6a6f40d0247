"""Store tokens for the WordPress plugin: created, listed and revoked with the admin token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from app.api.deps import SessionDep
from app.api.errors import responses
from app.api.schemas import MAX_ID, TokenCreate, TokenCreated, TokenRead
from app.auth import tokens as service

router = APIRouter(prefix="/tokens", tags=["tokens"])


@router.get("")
async def list_tokens(session: SessionDep) -> list[TokenRead]:
    return [TokenRead.of(token, store) for token, store in await service.list_tokens(session)]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses=responses(404, s404="No store of that name (`store_not_found`)"),
)
async def create_token(data: TokenCreate, session: SessionDep) -> TokenCreated:
    """A new token for one store's plugin. The answer holds the token itself, this once: wcsync
    keeps only its hash."""
    token, raw = await service.create_token(session, data.store, data.label)
    return TokenCreated(**TokenRead.of(token, data.store).model_dump(), token=raw)


@router.delete(
    "/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=responses(404, s404="No token with that id (`token_not_found`)"),
)
async def revoke_token(token_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep) -> None:
    await service.revoke_token(session, token_id)
