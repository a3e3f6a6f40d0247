"""The application: create_app() and its lifespan (database, store clients, engine, scheduler)."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.api import orders as orders_api
from app.api import plugin as plugin_api
from app.api import stores as stores_api
from app.api import sync as sync_api
from app.api import tokens as tokens_api
from app.api import webhooks as webhooks_api
from app.api.deps import authenticate
from app.api.errors import BodySizeLimit, install_error_handlers, responses
from app.auth.sessions import end_stale_sessions
from app.auth.throttle import ThrottlePolicy
from app.config import Settings, get_settings, parse_trusted_proxies, store_tls_context
from app.crypto import Keyring, verify_keyring
from app.db import create_engine, make_session_factory, session_scope
from app.migrate import upgrade_to_head
from app.scheduler import Scheduler
from app.sync.clients import ClientRegistry, TransportFactory
from app.sync.discover.webhooks import WebhookReceiver
from app.sync.runs.engine import SyncEngine
from app.sync.runs.liveness import ProcessMark
from app.woocommerce.addresses import store_transport_factory

log = logging.getLogger("wcsync")

API_DESCRIPTION = """\
Every route under `/api` needs a token: `Authorization: Bearer <token>`, or the dashboard's
session cookie with `X-Requested-With: wcsync`. Errors have one shape:
`{"error": {"code": "…", "message": "…"}}`.

**The admin token** (`WCSYNC_ADMIN_TOKEN`) may call every route.

**A store token** (`wcst_…`, made with `POST /api/tokens` for one store's WordPress plugin) may call
only the routes marked `x-store-token`, on its own store: `GET /api/pending`,
`GET /api/stores/{its name}`, `POST /api/sync` (Sync Now; a sub-store's token syncs its store),
`GET /api/runs/{id}` (its store's runs), `GET|POST /api/orders/{its name}/{order_id}[/sync]`,
`GET /api/orders/{its name}/{order_id}/origin`, `GET /api/stores/{its name}/failed-orders` and
`GET /api/links` (its store's). Any other call answers `403 forbidden`.

**Throttling.** A wrong token that keeps coming back (ten times within five minutes by default)
answers `429` with `Retry-After` for a minute, doubling up to five minutes; other tokens from the
same address are not affected. Fifty different wrong tokens from one address within five minutes
refuse that address (wrong tokens, the admin token and dashboard sign-ins) for a minute, doubling
up to an hour; a store's right token is always taken.
"""


# Loggers of libraries that print what they carry: httpx logs every request URL at INFO (with
# query-string auth, the key and the secret), aiosqlite and SQLAlchemy log SQL parameters at
# DEBUG (the stores' secrets). They stay at WARNING whatever WCSYNC_LOG_LEVEL says.
CHATTY_LOGGERS = ("httpx", "httpcore", "aiosqlite", "sqlalchemy.engine", "asyncpg", "hpack")


def quiet_chatty_loggers() -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def create_app(
    settings: Settings | None = None,
    *,
    transport_factory: TransportFactory | None = None,
    run_migrations: bool = True,
) -> FastAPI:
    """Build the app. `transport_factory` lets tests and the demo route store traffic to
    in-process fake stores."""
    settings = settings or get_settings()
    quiet_chatty_loggers()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keyring = Keyring.from_settings(settings)
        db_engine = create_engine(settings.database_url, keyring=keyring)
        if run_migrations:
            await upgrade_to_head(db_engine)
        # A wrong or lost key is said at start, not as a 500 on the first store read.
        await verify_keyring(db_engine)
        session_factory = make_session_factory(db_engine)
        admin_token = settings.resolved_admin_token()
        async with session_scope(session_factory) as session:
            ended = await end_stale_sessions(session, admin_token)
        if ended:
            log.info("auth.sessions.ended count=%d (expired, or opened with another admin token)", ended)
        tls = store_tls_context(settings.ca_bundle)
        clients = ClientRegistry(
            timeout=settings.store_timeout_seconds,
            max_concurrency=settings.store_max_concurrency,
            # The transport carries the TLS trust: a client given one ignores its own `verify`.
            transport_factory=transport_factory
            or store_transport_factory(settings.allow_link_local_urls, verify=tls),
            start_concurrency=settings.store_start_concurrency,
            batch_size=settings.batch_size,
            adaptive=settings.adaptive_pace,
            verify=tls,
        )
        engine = SyncEngine(
            session_factory, clients, settings, mark=ProcessMark(db_engine, settings.database_url)
        )
        await engine.startup()
        app.state.db_engine = db_engine
        app.state.session_factory = session_factory
        app.state.clients = clients
        app.state.engine = engine
        app.state.webhooks = WebhookReceiver(engine.sync_order)
        app.state.admin_token = admin_token
        app.state.throttle_policy = ThrottlePolicy(
            max_failures=settings.auth_max_failures,
            window_seconds=settings.auth_failure_window_seconds,
            lockout_seconds=settings.auth_lockout_seconds,
            lockout_max_seconds=settings.auth_lockout_max_seconds,
        )
        app.state.address_throttle_policy = ThrottlePolicy(
            max_failures=settings.auth_address_max_failures,
            window_seconds=settings.auth_failure_window_seconds,
            lockout_seconds=settings.auth_lockout_seconds,
            lockout_max_seconds=settings.auth_lockout_max_seconds,
        )
        app.state.token_throttle_policy = ThrottlePolicy(
            max_failures=settings.auth_max_failures,
            window_seconds=settings.auth_failure_window_seconds,
            lockout_seconds=min(settings.auth_lockout_seconds, settings.auth_token_lockout_max_seconds),
            lockout_max_seconds=settings.auth_token_lockout_max_seconds,
        )
        app.state.session_hours = settings.session_hours
        scheduler = Scheduler(engine, db_engine, settings)
        if settings.scheduler_enabled:
            scheduler.start()
        # Everything built so far lives as long as the app: out of the cyclic collector's way,
        # so that its full collections (which walked every module, model and route, a few ms
        # each) stop landing in a request's or a batch's time. Given back at shutdown. (No
        # collection first: it costs ~60 ms per start, which the test suite pays per app.)
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()
            await scheduler.stop()
            await app.state.webhooks.shutdown()
            await engine.shutdown()
            await clients.aclose()
            await db_engine.dispose()

    app = FastAPI(
        title="wcsync",
        summary="Replicates WooCommerce orders between a main store and its sub-stores.",
        description=API_DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
        # Served from the package (app.web.routes): the stock pages load Swagger UI from a CDN.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    # Not FastAPI's max_body_size: its 413 for a declared Content-Length bypasses the app's
    # exception handlers and answers in another shape.
    app.add_middleware(BodySizeLimit, limit=settings.max_body_bytes, exempt=("/api/webhooks/",))
    trusted_proxies = parse_trusted_proxies(settings.trusted_proxies)
    if trusted_proxies:
        # Added last, so it runs first: the client address (the throttle's key) and the scheme
        # (the dashboard cookie's Secure flag) are the forwarded ones, but only when the request
        # comes from a listed proxy. `wcsync serve` turns uvicorn's own handling off, which would
        # believe any client on loopback.
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=trusted_proxies)
    api = APIRouter(
        prefix="/api",
        dependencies=[Depends(authenticate)],
        responses=responses(401, 403, 413, 422, 429),
    )
    api.include_router(stores_api.router)
    api.include_router(sync_api.router)
    api.include_router(orders_api.router)
    api.include_router(plugin_api.router)
    api.include_router(tokens_api.router)
    app.include_router(api)
    # Outside the Bearer-protected router: WooCommerce cannot send our token, the signature is
    # the auth. The install/list routes in it carry `authenticate` themselves.
    app.include_router(webhooks_api.router)
    app.include_router(webhooks_api.admin_router)

    from app.web.routes import install as install_web

    install_web(app)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        async with app.state.db_engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    return app
