from __future__ import annotations

import hmac
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession

from app.auth import sessions, throttle, tokens
from app.db import SessionFactory, session_scope
from app.errors import CsrfHeaderMissing, Forbidden, NotAuthenticated, TooManyFailures, WrongTokenPaused
from app.sync.clients import ClientRegistry
from app.sync.runs.engine import SyncEngine

log = logging.getLogger("wcsync.auth")

SESSION_COOKIE = "wcsync_session"
CSRF_HEADER = "X-Requested-With"
CSRF_VALUE = "wcsync"
# The OpenAPI extension that marks a route a store token may call; `authenticate` refuses
# store tokens everywhere else, so a new route is admin-only unless it says otherwise.
STORE_TOKEN_EXTENSION = "x-store-token"

_bearer = HTTPBearer(auto_error=False, description="The admin token, or a store's plugin token.")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the admin (token or dashboard session), or one store's plugin."""

    store: str | None = None
    token_id: int | None = None

    @property
    def is_admin(self) -> bool:
        return self.store is None

    def require_store(self, name: str | None, what: str) -> None:
        """A store token may act on its own store only."""
        if self.store is not None and name != self.store:
            raise Forbidden(f"This token belongs to store {self.store!r} and may {what} for that store only.")


ADMIN = Principal()


def store_token_allowed(what: str) -> dict[str, Any]:
    """`openapi_extra` of a route that a store token may call, on its own store."""
    return {STORE_TOKEN_EXTENSION: what}


def _factory(request: Request) -> SessionFactory:
    factory: SessionFactory = request.app.state.session_factory
    return factory


def throttle_policy(request: Request) -> throttle.ThrottlePolicy:
    policy: throttle.ThrottlePolicy = request.app.state.throttle_policy
    return policy


def client_of(request: Request) -> str:
    """The throttle's key of the caller's address. Behind a proxy listed in
    WCSYNC_TRUSTED_PROXIES, the address it forwarded (app.main applies X-Forwarded-For from
    those only); otherwise the address that connected, whatever headers it sent."""
    return throttle.client_key(request.client.host if request.client else None)


async def check_not_blocked(request: Request, session: AsyncSession | None = None) -> str:
    """The client's throttle key; 429 if its address is refused for now (too many wrong
    sign-ins, or too many different wrong tokens). Read in `session` when given (the request's
    own: one connection and transaction less per request)."""
    client = client_of(request)
    keys = [client, throttle.address_key(client)]
    if session is not None:
        wait = await throttle.seconds_blocked_any(session, keys)
    else:
        async with session_scope(_factory(request)) as own:
            wait = await throttle.seconds_blocked_any(own, keys)
    if wait > 0:
        log.warning("auth.throttled client=%s retry_after=%.0f", client, wait)
        raise TooManyFailures(wait)
    return client


async def count_failure(request: Request, client: str, reason: str) -> None:
    """Record a wrong sign-in (in a unit of work of its own: the request's is rolled back), and
    answer 429 at once if this one starts a lockout of the address."""
    async with session_scope(_factory(request)) as session:
        blocked = await throttle.record_failure(session, client, throttle_policy(request))
    log.warning("auth.refused reason=%s client=%s", reason, client)
    if blocked > 0:
        log.warning("auth.lockout client=%s seconds=%.0f", client, blocked)
        raise TooManyFailures(blocked)


async def count_wrong_token(request: Request, client: str, supplied: str, reason: str) -> None:
    """A Bearer token that is neither the admin token nor a store's: 429 if that token's checks
    are paused or the address is refused (then it is not counted again); otherwise counted, and
    429 at once if this one starts a pause. Other tokens from the address are not refused for
    it: a multisite network's sub-sites share one address, and one plugin's wrong token must not
    stop the others."""
    store_token = tokens.looks_like_store_token(supplied)
    key = throttle.token_key(client, supplied)
    async with session_scope(_factory(request)) as session:
        paused = await throttle.seconds_blocked(session, key)
        refused = await throttle.seconds_blocked_any(session, [client, throttle.address_key(client)])
        if paused > 0:
            log.warning("auth.token_paused client=%s retry_after=%.0f", client, paused)
            raise WrongTokenPaused(paused, store_token=store_token)
        if refused > 0:
            log.warning("auth.throttled client=%s retry_after=%.0f", client, refused)
            raise TooManyFailures(refused)
        verdict = await throttle.record_wrong_token(
            session,
            client,
            supplied,
            token_policy=request.app.state.token_throttle_policy,
            address_policy=request.app.state.address_throttle_policy,
        )
    log.warning("auth.refused reason=%s client=%s", reason, client)
    if verdict.address_blocked > 0:
        log.warning("auth.lockout client=%s seconds=%.0f", client, verdict.address_blocked)
        raise TooManyFailures(verdict.address_blocked)
    if verdict.token_blocked > 0:
        log.warning("auth.token_pause client=%s seconds=%.0f", client, verdict.token_blocked)
        raise WrongTokenPaused(verdict.token_blocked, store_token=store_token)


def is_admin_token(request: Request, supplied: str) -> bool:
    expected: str = request.app.state.admin_token
    return bool(supplied) and hmac.compare_digest(supplied.encode(), expected.encode())


async def signed_in(request: Request) -> bool:
    """Whether the dashboard cookie names a live session of the current admin token."""
    raw = request.cookies.get(SESSION_COOKIE, "")
    if not raw:
        return False
    async with session_scope(_factory(request)) as session:
        return await sessions.session_is_valid(session, raw, request.app.state.admin_token)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    session: SessionDep,
) -> Principal:
    """The caller of an /api route: a Bearer token (the admin token or a store token: the CLI,
    the WordPress plugin, scripts) or the dashboard's session cookie. A browser sends the cookie
    with any site's request too, so cookie calls must also carry a header that a cross-site form
    cannot set. Store tokens reach only the routes marked for them.

    The throttle: a store's right token is taken whatever came from its address before; the
    admin token is refused while the address is (it is read in the request's own unit of work,
    the handler's: FastAPI hands both the same session, a read only); a wrong token is counted by
    `count_wrong_token`. What may write (a token's last use, an ended dashboard session, a wrong
    token counted) has a unit of work of its own."""
    principal: Principal
    if credentials:
        supplied = credentials.credentials
        client = client_of(request)
        if is_admin_token(request, supplied):
            await check_not_blocked(request, session)
            principal = ADMIN
        else:
            # In a unit of work of its own: it may note the token's last use, and a write
            # here would hold SQLite's lock for the whole request.
            async with session_scope(_factory(request)) as own:
                found = await tokens.store_of_token(own, supplied)
            if found is None:
                await count_wrong_token(request, client, supplied, "wrong_bearer_token")
                raise NotAuthenticated(
                    "Wrong token: send Authorization: Bearer <admin token or store token>."
                )
            principal = Principal(store=found[1], token_id=found[0])
    elif SESSION_COOKIE in request.cookies:
        if request.headers.get(CSRF_HEADER.lower()) != CSRF_VALUE:
            raise CsrfHeaderMissing(f"Cookie-authenticated calls must send {CSRF_HEADER}: {CSRF_VALUE}.")
        if not await signed_in(request):
            raise NotAuthenticated(
                "The dashboard session has ended (signed out, expired, or the token changed)."
            )
        principal = ADMIN
    else:
        raise NotAuthenticated("Missing token: send Authorization: Bearer <token>.")
    if not principal.is_admin:
        route = request.scope.get("route")
        extra = getattr(route, "openapi_extra", None) or {}
        if STORE_TOKEN_EXTENSION not in extra:
            raise Forbidden(
                f"This token belongs to store {principal.store!r}'s WordPress plugin: it may read the "
                "pending counts and its store, run Sync Now and Sync Order for its store, and list its "
                "store's orders. Use the admin token for this."
            )
    return principal


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: committed when the handler returns, rolled back on error."""
    async with session_scope(request.app.state.session_factory) as session:
        yield session


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
# The same dependency as the /api router's: FastAPI runs it once per request and hands the result here.
PrincipalDep = Annotated[Principal, Depends(authenticate)]
