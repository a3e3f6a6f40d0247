"""Sign-in, sign-out and the dashboard's files, over HTTP without a browser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import TOKEN, Stack, stack

FROM_PAGE = {"X-Requested-With": "wcsync"}  # what the dashboard's script sends


@pytest.fixture
async def wcsync(tmp_path: Path) -> AsyncIterator[Stack]:
    async with stack(f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}", {}) as s:
        yield s


@pytest.fixture
async def browserless(wcsync: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """A client without the Bearer header, like a browser before sign-in."""
    async with httpx.AsyncClient(base_url=str(wcsync.api.base_url), timeout=30) as client:
        yield client


def set_cookie(response: httpx.Response) -> str:
    return response.headers.get("set-cookie", "")


class TestSignIn:
    async def test_signed_out_visitors_get_the_sign_in_form(self, browserless: httpx.AsyncClient) -> None:
        page = await browserless.get("/admin")
        assert page.status_code == 200
        assert 'action="/admin/login"' in page.text and 'name="token"' in page.text
        assert "Sync Now" not in page.text
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["x-frame-options"] == "DENY"

    async def test_form_sign_in_sets_an_httponly_strict_cookie_and_redirects(
        self, browserless: httpx.AsyncClient
    ) -> None:
        response = await browserless.post("/admin/login", data={"token": TOKEN})
        assert response.status_code == 303 and response.headers["location"] == "/admin"
        cookie = set_cookie(response)
        assert cookie.startswith("wcsync_session=")
        assert TOKEN not in cookie  # a random session id, never the token
        for attribute in ("HttpOnly", "Path=/", "SameSite=strict"):
            assert attribute in cookie
        assert "Secure" not in cookie  # plain http here
        dashboard = await browserless.get("/admin")
        assert 'id="sync-button"' in dashboard.text

    async def test_https_sign_in_marks_the_cookie_secure(self, tmp_path: Path) -> None:
        # Behind a TLS proxy on this host, trusted through WCSYNC_TRUSTED_PROXIES.
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'wcsync.db'}"
        async with stack(database_url, {}, trusted_proxies="127.0.0.1") as s:
            async with httpx.AsyncClient(base_url=str(s.api.base_url), timeout=30) as browserless:
                response = await browserless.post(
                    "/admin/login", json={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"}
                )
        assert response.status_code == 200 and response.json() == {"ok": True}
        assert "Secure" in set_cookie(response)

    async def test_a_forwarded_https_from_an_untrusted_client_is_not_believed(
        self, browserless: httpx.AsyncClient
    ) -> None:
        response = await browserless.post(
            "/admin/login", json={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"}
        )
        assert response.status_code == 200 and "Secure" not in set_cookie(response)

    @pytest.mark.parametrize("token", ["wrong", "", TOKEN + "x"])
    async def test_a_wrong_token_is_refused_with_a_clear_message(
        self, browserless: httpx.AsyncClient, token: str
    ) -> None:
        form = await browserless.post("/admin/login", data={"token": token})
        assert form.status_code == 401
        assert 'role="alert"' in form.text
        assert "set-cookie" not in form.headers
        as_json = await browserless.post("/admin/login", json={"token": token})
        assert as_json.status_code == 401
        assert as_json.json()["error"]["code"] == "not_authenticated"

    @pytest.mark.parametrize("origin", ["https://evil.example", "null"])
    async def test_sign_in_from_another_site_is_refused(
        self, browserless: httpx.AsyncClient, origin: str
    ) -> None:
        response = await browserless.post("/admin/login", data={"token": TOKEN}, headers={"Origin": origin})
        assert response.status_code == 403
        assert "set-cookie" not in response.headers

    async def test_the_token_is_never_logged(
        self, browserless: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level("DEBUG")
        await browserless.post("/admin/login", data={"token": TOKEN})
        await browserless.post("/admin/login", data={"token": "wrong-token-123"})
        assert "web.login.ok" in caplog.text and "web.login.refused" in caplog.text
        assert TOKEN not in caplog.text and "wrong-token-123" not in caplog.text


class TestSignOut:
    async def test_sign_out_clears_the_cookie(self, browserless: httpx.AsyncClient) -> None:
        await browserless.post("/admin/login", data={"token": TOKEN})
        assert (await browserless.get("/api/pending", headers=FROM_PAGE)).status_code == 200
        response = await browserless.post("/admin/logout")
        assert response.status_code == 303
        assert 'wcsync_session=""' in set_cookie(response) and "Max-Age=0" in set_cookie(response)
        assert (await browserless.get("/api/pending", headers=FROM_PAGE)).status_code == 401
        assert 'action="/admin/login"' in (await browserless.get("/admin")).text

    async def test_sign_out_from_another_site_is_refused(self, browserless: httpx.AsyncClient) -> None:
        await browserless.post("/admin/login", data={"token": TOKEN})
        response = await browserless.post("/admin/logout", headers={"Origin": "https://evil.example"})
        assert response.status_code == 403
        assert "set-cookie" not in response.headers


class TestFiles:
    @pytest.mark.parametrize(
        ("path", "kind"),
        [("admin.js", "javascript"), ("admin.css", "text/css"), ("icon.svg", "image/svg+xml")],
    )
    async def test_assets_are_served(self, browserless: httpx.AsyncClient, path: str, kind: str) -> None:
        response = await browserless.get(f"/admin/static/{path}")
        assert response.status_code == 200
        assert kind in response.headers["content-type"]

    @pytest.mark.parametrize("page", ["dashboard.html", "login.html"])
    async def test_page_templates_are_not_served_as_files(
        self, browserless: httpx.AsyncClient, page: str
    ) -> None:
        assert (await browserless.get(f"/admin/static/{page}")).status_code == 404

    async def test_the_page_script_sends_the_csrf_header_and_same_origin_credentials(self) -> None:
        script = (Path(__file__).resolve().parents[2] / "app" / "web" / "static" / "admin.js").read_text()
        assert '"X-Requested-With": "wcsync"' in script
        assert 'credentials: "same-origin"' in script
        assert ".innerHTML" not in script  # API values go in as text only


async def test_cookie_auth_without_the_csrf_header_is_refused(browserless: httpx.AsyncClient) -> None:
    await browserless.post("/admin/login", data={"token": TOKEN})
    forged = await browserless.post("/api/sync", json={"direction": "both"})  # what a cross-site form sends
    assert forged.status_code in (401, 403)
