from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.db import session_scope
from app.errors import WcsyncError
from app.sync.clients import ClientRegistry
from app.sync.runs.engine import SyncEngine


class NotAuthenticated(WcsyncError):
    status_code = 401
    code = "not_authenticated"


_bearer = HTTPBearer(auto_error=False)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the handler returns, rolled back on error."""
    async with session_scope(request.app.state.session_factory) as session:
        yield session


class CsrfHeaderMissing(WcsyncError):
    status_code = 403
    code = "csrf_header_missing"


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The admin token, as a Bearer header (API, CLI, WordPress plugin) or as the dashboard's
    HttpOnly cookie. A browser sends the cookie to any site's request too, so cookie calls
    must also carry a header that a cross-site form cannot set."""
    expected: str = request.app.state.admin_token
    if credentials:
        supplied = credentials.credentials
    else:
        supplied = request.cookies.get("wcsync_token", "")
        if supplied and request.headers.get("x-requested-with") != "wcsync":
            raise CsrfHeaderMissing("Cookie-authenticated calls must send X-Requested-With: wcsync.")
    if not supplied or not secrets.compare_digest(supplied.encode(), expected.encode()):
        raise NotAuthenticated("Missing or wrong admin token: send Authorization: Bearer <token>.")


def get_engine(request: Request) -> SyncEngine:
    engine: SyncEngine = request.app.state.engine
    return engine


def get_clients(request: Request) -> ClientRegistry:
    clients: ClientRegistry = request.app.state.clients
    return clients


# scope="function": commit when the handler returns and before the response is sent. FastAPI's
# default for a dependency with yield ends it after the response, so a client could be told
# "created" before the commit (and even if it then failed), and read the old state right after.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
EngineDep = Annotated[SyncEngine, Depends(get_engine)]
ClientsDep = Annotated[ClientRegistry, Depends(get_clients)]
