"""Who may call the API: the admin token, dashboard sessions, store tokens, and the throttle on
wrong tokens. Real database and migrations; the app in-process over ASGI."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.throttle import ThrottlePolicy, client_key
from app.config import MIN_ADMIN_TOKEN_LENGTH, Settings
from app.main import create_app
from tests.e2e.support import TOKEN, service_settings

OTHER_TOKEN = "another-admin-token-0123456789"
FROM_PAGE = {"X-Requested-With": "wcsync"}


@asynccontextmanager
async def running(database_url: str, **overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
    """wcsync on this database, and a client with no credentials of its own."""
    app = create_app(service_settings(database_url, **overrides))
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://wcsync.test"
        ) as c:
            yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def add_store(client: httpx.AsyncClient, name: str, role: str = "sub") -> None:
    response = await client.post(
        "/api/stores",
        headers=bearer(TOKEN),
        json={
            "name": name,
            "role": role,
            "base_url": f"https://{name}.store.test",
            "consumer_key": f"ck_{name}_0123456789",
            "consumer_secret": f"cs_{name}_0123456789",
        },
    )
    assert response.status_code == 201, response.text


async def sign_in(client: httpx.AsyncClient, token: str = TOKEN) -> str:
    response = await client.post("/admin/login", json={"token": token})
    assert response.status_code == 200, response.text
    return client.cookies["wcsync_session"]


class TestSessions:
    async def test_the_cookie_holds_a_random_id_stored_only_hashed(
        self, database_url: str, db_engine: AsyncEngine
    ) -> None:
        async with running(database_url) as client:
            session_id = await sign_in(client)
            assert session_id != TOKEN and TOKEN not in session_id
            assert (await client.get("/api/pending", headers=FROM_PAGE)).status_code == 200
        async with db_engine.connect() as conn:
            rows = (await conn.execute(text("SELECT id_hash, expires_at FROM admin_session"))).all()
        assert [r.id_hash for r in rows] == [hashlib.sha256(session_id.encode()).hexdigest()]

    async def test_sign_out_revokes_the_session_even_for_a_copied_cookie(self, database_url: str) -> None:
        async with running(database_url) as client:
            session_id = await sign_in(client)
            assert (
                await client.post("/admin/logout", headers={"Accept": "application/json"})
            ).status_code == 200
            copied = {"Cookie": f"wcsync_session={session_id}", **FROM_PAGE}
            refused = await client.get("/api/pending", headers=copied)
            assert refused.status_code == 401
            assert "session has ended" in refused.json()["error"]["message"]
            page = await client.get("/admin", headers={"Cookie": f"wcsync_session={session_id}"})
            assert 'action="/admin/login"' in page.text

    async def test_a_new_admin_token_ends_every_session(
        self, database_url: str, db_engine: AsyncEngine
    ) -> None:
        async with running(database_url) as client:
            session_id = await sign_in(client)
        cookie = {"Cookie": f"wcsync_session={session_id}", **FROM_PAGE}
        async with running(database_url, admin_token=OTHER_TOKEN) as client:
            assert (await client.get("/api/pending", headers=cookie)).status_code == 401
            async with db_engine.connect() as conn:
                assert (await conn.execute(text("SELECT count(*) FROM admin_session"))).scalar() == 0
        # ... and going back to the old token does not bring the session back: it is gone.
        async with running(database_url) as client:
            assert (await client.get("/api/pending", headers=cookie)).status_code == 401

    async def test_an_expired_session_is_refused(self, database_url: str, db_engine: AsyncEngine) -> None:
        async with running(database_url) as client:
            await sign_in(client)
            assert (await client.get("/api/pending", headers=FROM_PAGE)).status_code == 200
            async with db_engine.begin() as conn:
                await conn.execute(text("UPDATE admin_session SET expires_at = created_at"))
            assert (await client.get("/api/pending", headers=FROM_PAGE)).status_code == 401

    async def test_cookie_calls_still_need_the_csrf_header(self, database_url: str) -> None:
        async with running(database_url) as client:
            await sign_in(client)
            forged = await client.post("/api/sync", json={})
            assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf_header_missing"


class TestThrottle:
    POLICY = {
        "auth_max_failures": 3,
        "auth_address_max_failures": 3,
        "auth_lockout_seconds": 1,
        "auth_lockout_max_seconds": 30,
    }

    async def test_wrong_tokens_lock_the_client_out_with_a_growing_retry_after(
        self, database_url: str
    ) -> None:
        async with running(database_url, **self.POLICY) as client:
            statuses = [
                (await client.get("/api/pending", headers=bearer(f"wrong-{i}"))).status_code for i in range(3)
            ]
            assert statuses == [401, 401, 429]  # the third different one starts the lockout
            locked = await client.get("/api/pending", headers=bearer(TOKEN))
            # While locked out, even the right admin token is refused: otherwise guessing goes on.
            assert locked.status_code == 429 and locked.json()["error"]["code"] == "too_many_failures"
            assert locked.headers["Retry-After"] == "1"
            await asyncio.sleep(1.1)
            assert (await client.get("/api/pending", headers=bearer(TOKEN))).status_code == 200
            for i in range(3):
                last = await client.get("/api/pending", headers=bearer(f"again-{i}"))
            assert last.status_code == 429 and last.headers["Retry-After"] == "2"  # doubled

    async def test_right_tokens_are_never_counted_or_slowed(self, database_url: str) -> None:
        async with running(database_url, **self.POLICY) as client:
            await client.get("/api/pending", headers=bearer("wrong-1"))
            await client.get("/api/pending", headers=bearer("wrong-2"))
            for _ in range(20):
                assert (await client.get("/api/pending", headers=bearer(TOKEN))).status_code == 200
            # No token at all is not a guess.
            for _ in range(5):
                assert (await client.get("/api/pending")).status_code == 401
            assert (await client.get("/api/pending", headers=bearer(TOKEN))).status_code == 200

    async def test_the_limit_is_shared_by_every_process_on_the_database(self, database_url: str) -> None:
        async with running(database_url, **self.POLICY) as one, running(database_url, **self.POLICY) as two:
            assert (await one.get("/api/pending", headers=bearer("wrong-1"))).status_code == 401
            assert (await two.get("/api/pending", headers=bearer("wrong-2"))).status_code == 401
            assert (await one.get("/api/pending", headers=bearer("wrong-3"))).status_code == 429
            assert (await two.get("/api/pending", headers=bearer(TOKEN))).status_code == 429

    async def test_sign_in_attempts_are_throttled_too(self, database_url: str) -> None:
        async with running(database_url, **self.POLICY) as client:
            for i in range(2):
                assert (await client.post("/admin/login", data={"token": f"wrong-{i}"})).status_code == 401
            page = await client.post("/admin/login", data={"token": "wrong-2"})
            assert page.status_code == 429 and page.headers["Retry-After"] == "1"
            assert "Too many wrong tokens" in page.text and 'role="alert"' in page.text
            as_json = await client.post("/admin/login", json={"token": TOKEN})
            assert as_json.status_code == 429 and "set-cookie" not in as_json.headers

    def test_ipv6_clients_are_counted_by_their_64_block(self) -> None:
        assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
        assert client_key("2001:db8:1:3::5") != client_key("2001:db8:1:2::5")
        assert client_key("::ffff:203.0.113.9") == "203.0.113.9"
        assert client_key(None) == "unknown"

    def test_the_lockout_doubles_up_to_its_cap(self) -> None:
        policy = ThrottlePolicy(lockout_seconds=60, lockout_max_seconds=600)
        assert [policy.lockout(n).total_seconds() for n in range(6)] == [60, 120, 240, 480, 600, 600]


WRONG_STORE_TOKEN = "wcst_" + "x" * 43  # shaped like a store token, known to no wcsync


async def expire_pauses(db_engine: AsyncEngine) -> None:
    """End every lockout now (instead of waiting it out), keeping the counts of lockouts."""
    async with db_engine.begin() as conn:
        await conn.execute(text("UPDATE auth_throttle SET blocked_until = NULL"))


class TestThrottleByToken:
    """A WordPress plugin left with a wrong token retries it; sub-sites of a multisite network and
    shops behind NAT share one address. One store's wrong token must not refuse another's right
    token, a repeated wrong token must not escalate to long lockouts, and guessing (many
    different tokens) must still be stopped."""

    # Pauses long enough to outlast a slow request on a loaded machine; tests end them with
    # `expire_pauses` instead of waiting.
    POLICY = {
        "auth_max_failures": 3,
        "auth_address_max_failures": 3,
        "auth_lockout_seconds": 60,
        "auth_lockout_max_seconds": 3600,
        "auth_token_lockout_max_seconds": 120,
    }

    @asynccontextmanager
    async def two_stores(self, database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
        """wcsync with stores sub1 and sub2; yields a client and sub2's right token."""
        async with running(database_url, **self.POLICY) as client:
            await add_store(client, "sub1")
            await add_store(client, "sub2")
            created = await client.post("/api/tokens", headers=bearer(TOKEN), json={"store": "sub2"})
            assert created.status_code == 201, created.text
            yield client, created.json()["token"]

    async def test_one_stores_wrong_token_never_refuses_another_stores_right_token(
        self, database_url: str
    ) -> None:
        async with self.two_stores(database_url) as (client, sub2_token):
            statuses = [
                (await client.get("/api/pending", headers=bearer(WRONG_STORE_TOKEN))).status_code
                for _ in range(8)
            ]
            assert statuses == [401, 401] + [429] * 6
            # Same address, another store's right token, and the admin token: answered.
            for token in (sub2_token, TOKEN):
                answer = await client.get("/api/pending", headers=bearer(token))
                assert answer.status_code == 200, answer.text
            sync_now = await client.post("/api/sync", headers=bearer(sub2_token), json={})
            assert sync_now.status_code in (200, 202), sync_now.text

    async def test_the_wrong_token_is_paused_in_an_owners_words(self, database_url: str) -> None:
        async with self.two_stores(database_url) as (client, _):
            for _ in range(3):
                last = await client.get("/api/pending", headers=bearer(WRONG_STORE_TOKEN))
            assert last.status_code == 429 and last.headers["Retry-After"] == "60"
            error = last.json()["error"]
            assert error["code"] == "too_many_failures"
            assert error["message"].startswith("This store's wcsync token is wrong")
            assert "pauses checks of this one for 60 s" in error["message"]
            assert "sign" not in error["message"].lower()
            # A token that is not even shaped like a store token: said so, not "this store's".
            for _ in range(3):
                other = await client.get("/api/pending", headers=bearer("not-a-token-at-all"))
            assert other.status_code == 429
            assert other.json()["error"]["message"].startswith("This token is wrong")

    async def test_a_repeated_wrong_token_pauses_grow_only_to_their_cap(
        self, database_url: str, db_engine: AsyncEngine
    ) -> None:
        async with self.two_stores(database_url) as (client, _):
            waits = []
            for _ in range(4):
                for _ in range(3):
                    last = await client.get("/api/pending", headers=bearer(WRONG_STORE_TOKEN))
                assert last.status_code == 429
                waits.append(int(last.headers["Retry-After"]))
                await expire_pauses(db_engine)
            assert waits == [60, 120, 120, 120]  # doubling, capped at auth_token_lockout_max_seconds
            # One token repeated is not guessing: the address was never refused.
            assert (await client.get("/api/pending", headers=bearer(TOKEN))).status_code == 200

    async def test_many_different_wrong_tokens_refuse_the_address_but_not_a_stores_right_token(
        self, database_url: str
    ) -> None:
        async with self.two_stores(database_url) as (client, sub2_token):
            statuses = [
                (await client.get("/api/pending", headers=bearer(f"wcst_guess{i:038d}"))).status_code
                for i in range(4)
            ]
            assert statuses == [401, 401, 429, 429]
            refused = await client.get("/api/pending", headers=bearer(TOKEN))
            assert (
                refused.status_code == 429
                and "Too many wrong tokens from your address" in (refused.json()["error"]["message"])
            )
            signing_in = await client.post("/admin/login", json={"token": TOKEN})
            assert signing_in.status_code == 429
            # A store's token is 256 random bits: no rate of guessing finds one, so it still works.
            assert (await client.get("/api/pending", headers=bearer(sub2_token))).status_code == 200

    async def test_a_plugin_retrying_its_wrong_token_never_gets_long_pauses(
        self, session_factory: Any
    ) -> None:
        """The defaults: a plugin whose pages ask every 10 seconds for three hours."""
        from datetime import timedelta

        from app.auth import throttle
        from app.db import session_scope
        from app.models import utcnow

        settings = Settings()
        token_policy = ThrottlePolicy(
            max_failures=settings.auth_max_failures,
            window_seconds=settings.auth_failure_window_seconds,
            lockout_seconds=settings.auth_lockout_seconds,
            lockout_max_seconds=settings.auth_token_lockout_max_seconds,
        )
        address_policy = ThrottlePolicy(max_failures=settings.auth_address_max_failures)
        start = utcnow()
        pauses: list[float] = []
        for step in range(3 * 360):
            now = start + timedelta(seconds=10 * step)
            async with session_scope(session_factory) as session:
                if await throttle.seconds_blocked(session, throttle.token_key("203.0.113.9", "wcst_x"), now):
                    continue
                verdict = await throttle.record_wrong_token(
                    session,
                    "203.0.113.9",
                    "wcst_x",
                    token_policy=token_policy,
                    address_policy=address_policy,
                    now=now,
                )
            assert verdict.address_blocked == 0
            if verdict.token_blocked:
                pauses.append(verdict.token_blocked)
        assert pauses[:3] == [60, 120, 240] and max(pauses) == 300


@asynccontextmanager
async def served_like_wcsync_serve(
    database_url: str, monkeypatch: pytest.MonkeyPatch, **env: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The app and the uvicorn options `wcsync serve` runs with (WCSYNC_* from `env`), served on
    loopback; yields a client without credentials."""
    import uvicorn

    from app import cli
    from app.config import get_settings
    from tests.e2e.support import _stop

    for name, value in {
        "WCSYNC_DATABASE_URL": database_url,
        "WCSYNC_ADMIN_TOKEN": TOKEN,
        "WCSYNC_SCHEDULER_ENABLED": "false",
        "WCSYNC_AUTH_MAX_FAILURES": "3",
        "WCSYNC_AUTH_ADDRESS_MAX_FAILURES": "3",
        **env,
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    captured: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: captured.update(app=app, options=options))
    try:
        assert cli.main(["serve"]) == 0
    finally:
        get_settings.cache_clear()
    options = {**captured["options"], "host": "127.0.0.1", "port": 0, "log_level": "warning"}
    server = uvicorn.Server(uvicorn.Config(captured["app"], lifespan="on", **options))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        await _stop(server, task)


class TestForwardedHeaders:
    """X-Forwarded-For and X-Forwarded-Proto are believed only from WCSYNC_TRUSTED_PROXIES:
    otherwise any local program could dodge the throttle, or aim it at an address."""

    async def test_without_trusted_proxies_a_forwarded_address_changes_nothing(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async with served_like_wcsync_serve(database_url, monkeypatch) as client:
            statuses = [
                (
                    await client.get(
                        "/api/pending",
                        headers={**bearer(f"wrong-{i}"), "X-Forwarded-For": f"198.51.100.{i}"},
                    )
                ).status_code
                for i in range(3)
            ]
            # Counted as 127.0.0.1 each time, whatever the header says.
            assert statuses == [401, 401, 429]
            assert (
                await client.get("/api/pending", headers={**bearer(TOKEN), "X-Forwarded-For": "198.51.100.9"})
            ).status_code == 429

    async def test_without_trusted_proxies_the_scheme_is_the_connections(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async with served_like_wcsync_serve(database_url, monkeypatch) as client:
            signed = await client.post(
                "/admin/login", data={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"}
            )
            assert signed.status_code == 303
            assert "Secure" not in signed.headers["set-cookie"]

    async def test_behind_a_trusted_proxy_the_forwarded_address_and_scheme_are_used(
        self, database_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async with served_like_wcsync_serve(
            database_url, monkeypatch, WCSYNC_TRUSTED_PROXIES="127.0.0.1, ::1"
        ) as client:
            # Each client behind the proxy is counted by its own address.
            for i in range(4):
                answer = await client.get(
                    "/api/pending", headers={**bearer(f"wrong-{i}"), "X-Forwarded-For": f"198.51.100.{i}"}
                )
                assert answer.status_code == 401
            for i in range(3):
                last = await client.get(
                    "/api/pending", headers={**bearer(f"again-{i}"), "X-Forwarded-For": "203.0.113.7"}
                )
            assert last.status_code == 429
            # 203.0.113.7 is refused; another client behind the same proxy is not.
            assert (
                await client.get("/api/pending", headers={**bearer(TOKEN), "X-Forwarded-For": "203.0.113.7"})
            ).status_code == 429
            assert (
                await client.get("/api/pending", headers={**bearer(TOKEN), "X-Forwarded-For": "198.51.100.9"})
            ).status_code == 200
            # nginx's recipe: https outside, Host and Origin the public name; the sign-in's Origin
            # check passes and its cookie is Secure.
            signed = await client.post(
                "/admin/login",
                data={"token": TOKEN},
                headers={
                    "Host": "wcsync.example.com",
                    "Origin": "https://wcsync.example.com",
                    "X-Forwarded-Proto": "https",
                    "X-Forwarded-For": "198.51.100.9",
                },
            )
            assert signed.status_code == 303, signed.text
            assert "Secure" in signed.headers["set-cookie"]
            forged = await client.post(
                "/admin/login",
                data={"token": TOKEN},
                headers={
                    "Host": "wcsync.example.com",
                    "Origin": "https://evil.example",
                    "X-Forwarded-Proto": "https",
                },
            )
            assert forged.status_code == 403

    @pytest.mark.parametrize("value", ["*", "nginx.local", "10.0.0.0/33", "127.0.0.1,,garbage"])
    def test_a_malformed_trusted_proxy_is_refused_in_words(self, value: str) -> None:
        with pytest.raises(ValueError, match="WCSYNC_TRUSTED_PROXIES entry .* is not an IP address"):
            Settings(trusted_proxies=value)
        assert Settings(trusted_proxies=" 127.0.0.1 , 10.0.0.0/8,::1 ").trusted_proxies


class TestAdminToken:
    def test_a_short_admin_token_is_refused_with_a_clear_message(self) -> None:
        with pytest.raises(ValueError, match=f"must have at least {MIN_ADMIN_TOKEN_LENGTH}"):
            Settings(admin_token="x" * (MIN_ADMIN_TOKEN_LENGTH - 1))
        assert Settings(admin_token="x" * MIN_ADMIN_TOKEN_LENGTH).admin_token

    def test_serve_refuses_to_start_with_a_short_token(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from app import cli
        from app.config import get_settings

        monkeypatch.setenv("WCSYNC_ADMIN_TOKEN", "too-short")
        get_settings.cache_clear()
        try:
            assert cli.main(["serve"]) == 2
        finally:
            get_settings.cache_clear()
        err = capsys.readouterr().err
        assert "WCSYNC_ADMIN_TOKEN is 9 characters long" in err and "Traceback" not in err


class TestStoreTokens:
    @pytest.fixture
    async def client(self, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
        async with running(database_url) as client:
            await add_store(client, "main", role="main")
            await add_store(client, "sub1")
            await add_store(client, "sub2")
            yield client

    async def create(self, client: httpx.AsyncClient, store: str) -> dict[str, Any]:
        response = await client.post(
            "/api/tokens", headers=bearer(TOKEN), json={"store": store, "label": "wp"}
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    async def test_a_token_is_shown_once_and_stored_hashed(
        self, client: httpx.AsyncClient, db_engine: AsyncEngine
    ) -> None:
        created = await self.create(client, "sub1")
        raw = created["token"]
        assert raw.startswith("wcst_") and created["hint"] == raw[:11] and created["store"] == "sub1"
        listed = (await client.get("/api/tokens", headers=bearer(TOKEN))).json()
        assert [t["id"] for t in listed] == [created["id"]]
        assert "token" not in listed[0] and raw not in str(listed)
        async with db_engine.connect() as conn:
            stored = (await conn.execute(text("SELECT token_hash FROM api_token"))).scalar()
        assert stored == hashlib.sha256(raw.encode()).hexdigest()

    @pytest.mark.parametrize(
        ("method", "path", "body"),
        [
            ("GET", "/api/pending", None),
            ("GET", "/api/stores/sub1", None),
            ("GET", "/api/links?state=failed", None),
            ("GET", "/api/links?state=failed&store=sub1", None),
            ("GET", "/api/orders/sub1/42", None),
        ],
    )
    async def test_what_a_store_token_may_do(
        self, client: httpx.AsyncClient, method: str, path: str, body: Any
    ) -> None:
        token = (await self.create(client, "sub1"))["token"]
        response = await client.request(method, path, headers=bearer(token), json=body)
        assert response.status_code == 200, response.text

    @pytest.mark.parametrize(
        ("method", "path", "body", "word"),
        [
            ("GET", "/api/stores", None, "Use the admin token"),
            ("GET", "/api/stores/sub2", None, "store 'sub1'"),
            ("PATCH", "/api/stores/sub1", {"enabled": False}, "Use the admin token"),
            ("DELETE", "/api/stores/sub1", None, "Use the admin token"),
            ("POST", "/api/stores/sub1/check", None, "Use the admin token"),
            ("GET", "/api/runs", None, "Use the admin token"),
            ("GET", "/api/tokens", None, "Use the admin token"),
            ("POST", "/api/tokens", {"store": "sub1"}, "Use the admin token"),
            ("POST", "/api/sync", {"store": "sub2"}, "store 'sub1'"),
            ("POST", "/api/sync", {"mode": "full"}, "Full sync needs the admin token"),
            ("GET", "/api/links?store=sub2", None, "store 'sub1'"),
            ("GET", "/api/orders/sub2/42", None, "store 'sub1'"),
            ("POST", "/api/orders/sub2/42/sync", None, "store 'sub1'"),
            ("GET", "/api/stores/sub1/webhooks", None, "Use the admin token"),
        ],
    )
    async def test_everything_else_is_a_403_that_says_why(
        self, client: httpx.AsyncClient, method: str, path: str, body: Any, word: str
    ) -> None:
        token = (await self.create(client, "sub1"))["token"]
        response = await client.request(method, path, headers=bearer(token), json=body)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        assert word in response.json()["error"]["message"]

    async def test_sync_now_with_a_sub_store_token_syncs_its_store(self, client: httpx.AsyncClient) -> None:
        token = (await self.create(client, "sub1"))["token"]
        accepted = await client.post("/api/sync", headers=bearer(token))
        assert accepted.status_code == 202
        run = await client.get(f"/api/runs/{accepted.json()['run_id']}", headers=bearer(token))
        assert run.status_code == 200 and run.json()["store"] == "sub1"
        # Another store's run is not this token's to read.
        other = await client.post("/api/sync", headers=bearer(TOKEN), json={"store": "sub2"})
        refused = await client.get(f"/api/runs/{other.json()['run_id']}", headers=bearer(token))
        assert refused.status_code == 403

    async def test_the_main_stores_token_syncs_everything(self, client: httpx.AsyncClient) -> None:
        token = (await self.create(client, "main"))["token"]
        accepted = await client.post("/api/sync", headers=bearer(token), json={"direction": "both"})
        assert accepted.status_code == 202
        run = await client.get(f"/api/runs/{accepted.json()['run_id']}", headers=bearer(token))
        assert run.status_code == 200 and run.json()["store"] is None

    async def test_revoking_a_token_stops_it_at_once(self, client: httpx.AsyncClient) -> None:
        created = await self.create(client, "sub1")
        assert (await client.get("/api/pending", headers=bearer(created["token"]))).status_code == 200
        assert (await client.delete(f"/api/tokens/{created['id']}", headers=bearer(TOKEN))).status_code == 204
        assert (await client.get("/api/pending", headers=bearer(created["token"]))).status_code == 401
        again = await client.delete(f"/api/tokens/{created['id']}", headers=bearer(TOKEN))
        assert again.status_code == 404 and again.json()["error"]["code"] == "token_not_found"

    async def test_removing_the_store_removes_its_tokens(self, client: httpx.AsyncClient) -> None:
        created = await self.create(client, "sub2")
        assert (await client.delete("/api/stores/sub2", headers=bearer(TOKEN))).status_code == 204
        assert (await client.get("/api/pending", headers=bearer(created["token"]))).status_code == 401
        assert (await client.get("/api/tokens", headers=bearer(TOKEN))).json() == []

    async def test_a_token_for_an_unknown_store_is_a_404(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/api/tokens", headers=bearer(TOKEN), json={"store": "nope"})
        assert response.status_code == 404 and response.json()["error"]["code"] == "store_not_found"

    async def test_last_use_is_recorded(self, client: httpx.AsyncClient) -> None:
        created = await self.create(client, "sub1")
        assert created["last_used_at"] is None
        await client.get("/api/pending", headers=bearer(created["token"]))
        (listed,) = (await client.get("/api/tokens", headers=bearer(TOKEN))).json()
        assert listed["last_used_at"] is not None
