"""The HTTP API's contract: auth, validation, error shape, secrets never returned."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from app.main import create_app
from tests.e2e.support import TOKEN, service_settings

STORE = {
    "name": "sub1",
    "role": "sub",
    "base_url": "https://shop.example.test/sub1/",
    "consumer_key": "ck_0123456789abcdef",
    "consumer_secret": "cs_very_secret_value_42",
}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(service_settings(database_url))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://wcsync.test", headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client:
            yield client


async def test_token_is_required(api: httpx.AsyncClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer wrong"}):
        response = await api.get("/api/pending", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "not_authenticated"
    assert (await api.get("/healthz", headers={"Authorization": ""})).json() == {"status": "ok"}


async def test_store_crud_never_returns_the_secret(api: httpx.AsyncClient) -> None:
    created = await api.post("/api/stores", json=STORE)
    assert created.status_code == 201
    body = created.json()
    assert body["base_url"] == "https://shop.example.test/sub1"  # a sub-site path is kept
    assert body["consumer_key_hint"] == "ck_…cdef"
    listed = await api.get("/api/stores")
    patched = await api.patch("/api/stores/sub1", json={"routing": "skus", "enabled": False})
    assert patched.json()["routing"] == "skus" and patched.json()["enabled"] is False
    for response in (created, listed, patched, await api.get("/api/stores/sub1")):
        assert "cs_very_secret_value_42" not in response.text
        assert "ck_0123456789abcdef" not in response.text
    duplicate = await api.post("/api/stores", json=STORE)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "store_exists"
    assert (await api.delete("/api/stores/sub1")).status_code == 204
    gone = await api.get("/api/stores/sub1")
    assert gone.status_code == 404 and gone.json()["error"]["message"] == "No store named 'sub1'."


async def test_only_one_main_store(api: httpx.AsyncClient) -> None:
    assert (await api.post("/api/stores", json={**STORE, "name": "m1", "role": "main"})).status_code == 201
    second = await api.post("/api/stores", json={**STORE, "name": "m2", "role": "main"})
    assert second.status_code == 409 and "m1" in second.json()["error"]["message"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"base_url": "ftp://shop.example"}, "base_url"),
        ({"base_url": "https://shop.example/?rest_route=/wc/v3"}, "base_url"),
        ({"name": "Not A Slug"}, "name"),
        ({"role": "boss"}, "role"),
        ({"consumer_secret": ""}, "consumer_secret"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_bad_store_input_is_a_422_naming_the_field(
    api: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    response = await api.post("/api/stores", json={**STORE, **change})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert field in [d["field"] for d in error["details"]]
    assert "cs_very_secret_value_42" not in response.text


async def test_sync_validation_and_unknown_run(api: httpx.AsyncClient) -> None:
    bad = await api.post("/api/sync", json={"direction": "sideways"})
    assert bad.status_code == 422
    unknown_store = await api.post("/api/sync", json={"store": "nope"})
    assert unknown_store.status_code == 404 and unknown_store.json()["error"]["code"] == "store_not_found"
    missing = await api.get("/api/runs/12345")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "run_not_found"


async def test_sync_with_no_stores_succeeds_and_is_listed(api: httpx.AsyncClient) -> None:
    accepted = await api.post("/api/sync")
    assert accepted.status_code == 202
    run_id = accepted.json()["run_id"]
    done = await api.post("/api/sync?wait=true")
    assert done.status_code == 200 and done.json()["status"] == "succeeded"
    runs = (await api.get("/api/runs")).json()
    assert run_id in [r["id"] for r in runs]


async def test_links_paging_and_filters(api: httpx.AsyncClient) -> None:
    page = await api.get("/api/links", params={"state": "pending", "limit": 10})
    assert page.status_code == 200 and page.json() == {
        "items": [],
        "total": 0,
        "limit": 10,
        "offset": 0,
        "next_before": None,
    }
    assert (await api.get("/api/links", params={"state": "weird"})).status_code == 422
    assert (await api.get("/api/links", params={"limit": 0})).status_code == 422
    assert (await api.get("/api/links", params={"before": 0})).status_code == 422
    assert (await api.get("/api/links", params={"before": 2**40})).status_code == 422


class TestBoundedInput:
    @pytest.mark.parametrize(
        ("path", "field"),
        [
            ("/api/links?offset=99999999999999999999", "offset"),
            ("/api/runs?offset=9223372036854775808", "offset"),
            ("/api/runs/99999999999999999999", "run_id"),
            ("/api/runs/0", "run_id"),
            ("/api/orders/sub1/99999999999999999999", "order_id"),
            ("/api/orders/sub1/-5", "order_id"),
        ],
    )
    async def test_numbers_out_of_range_are_a_422_naming_the_field(
        self, api: httpx.AsyncClient, path: str, field: str
    ) -> None:
        response = await api.get(path)
        assert response.status_code == 422, response.text
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]

    async def test_a_negative_order_id_is_not_blamed_on_the_store(self, api: httpx.AsyncClient) -> None:
        await api.post("/api/stores", json=STORE)
        response = await api.post("/api/orders/sub1/-1/sync")
        assert response.status_code == 422
        assert "greater than or equal to 1" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        ("base_url", "words"),
        [
            ("https://shop.example/" + "a" * 100_000, "at most 500 characters"),
            ("https://admin:hunter2@shop.example", "user name or password"),
            ("http://169.254.169.254/latest", "link-local"),
            ("http://[fe80::1]/", "link-local"),
            ("http://[::ffff:169.254.169.254]/", "link-local"),
            ("http://2852039166/", "unusual form"),
            ("http://0xA9.0xFE.0xA9.0xFE/", "unusual form"),
            ("http://shop example/", "spaces"),
        ],
    )
    async def test_store_urls_are_checked(self, api: httpx.AsyncClient, base_url: str, words: str) -> None:
        response = await api.post("/api/stores", json={**STORE, "base_url": base_url})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert words in error["message"] and error["details"][0]["field"] == "base_url"
        assert "hunter2" not in response.text and len(response.text) < 2000
        patched = await api.patch("/api/stores/sub1", json={"base_url": base_url})
        assert patched.status_code == 422  # the same rules on an edit (before the store lookup)

    async def test_link_local_urls_can_be_allowed_by_a_setting(self, database_url: str) -> None:
        app = create_app(service_settings(database_url, allow_link_local_urls=True))
        async with app.router.lifespan_context(app):
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://wcsync.test",
                headers={"Authorization": f"Bearer {TOKEN}"},
            ) as client:
                response = await client.post(
                    "/api/stores", json={**STORE, "base_url": "http://169.254.10.20"}
                )
                assert response.status_code == 201

    @pytest.mark.parametrize(
        ("since", "words"),
        [("9999-01-01T00:00:00Z", "not be in the future"), ("1970-01-01T00:00:00Z", "2000 or later")],
    )
    async def test_backfill_since_has_a_sensible_range(
        self, api: httpx.AsyncClient, since: str, words: str
    ) -> None:
        response = await api.post("/api/stores", json={**STORE, "backfill_since": since})
        assert response.status_code == 422 and words in response.json()["error"]["message"]
        sync = await api.post("/api/sync", json={"mode": "full", "since": since})
        assert sync.status_code == 422 and words in sync.json()["error"]["message"]

    async def test_a_time_without_a_zone_is_utc(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/api/stores", json={**STORE, "backfill_since": "2024-03-01T10:00:00"})
        assert response.status_code == 201
        assert response.json()["backfill_since"] == "2024-03-01T10:00:00Z"


class TestBodies:
    async def test_a_body_over_the_limit_is_refused_before_it_is_read(self, api: httpx.AsyncClient) -> None:
        big = b'{"direction": "' + b"x" * (20 * 1024 * 1024) + b'"}'
        response = await api.post("/api/sync", content=big, headers={"Content-Type": "application/json"})
        assert response.status_code == 413
        assert response.json()["error"] == {
            "code": "body_too_large",
            "message": "The request body is larger than 1048576 bytes, the most wcsync accepts.",
        }

    async def test_a_streamed_body_is_cut_off_at_the_limit(self, api: httpx.AsyncClient) -> None:
        sent = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal sent
            yield b'{"direction": "'
            for _ in range(64):  # 64 MiB if it were all read
                sent += 1
                yield b"x" * (1024 * 1024)

        response = await api.post("/api/sync", content=chunks(), headers={"Content-Type": "application/json"})
        assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
        assert sent < 64

    async def test_a_null_body_is_not_a_sync_of_everything(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/api/sync", content=b"null", headers={"Content-Type": "application/json"})
        assert response.status_code == 422
        assert response.json()["error"]["details"] == [
            {"field": "body", "problem": "The body must be a JSON object."}
        ]
        assert (await api.get("/api/runs")).json() == []
        assert (await api.post("/api/sync")).status_code == 202  # no body at all is

    async def test_malformed_json_is_explained_in_words(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/api/stores", content=b'{"name": "sub1",, }', headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422
        (detail,) = response.json()["error"]["details"]
        assert detail["field"] == "body"
        assert detail["problem"].startswith("The body is not valid JSON at character 16")

    async def test_a_body_that_is_not_utf8_is_a_422(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/api/tokens", content=b"3a\xff7", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"

    async def test_a_wrong_method_names_every_allowed_one(self, api: httpx.AsyncClient) -> None:
        response = await api.put("/api/stores/sub1", json={})
        assert response.status_code == 405
        assert response.headers["allow"] == "GET, PATCH, DELETE"
        assert response.json()["error"] == {
            "code": "method_not_allowed",
            "message": "PUT is not allowed here; use GET, PATCH, DELETE.",
        }


class TestDocs:
    async def test_docs_load_only_from_this_origin(self, api: httpx.AsyncClient) -> None:
        page = await api.get("/docs")
        assert page.status_code == 200 and 'id="swagger-ui"' in page.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert urls and all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        assert "http://" not in page.text and "https://" not in page.text
        assert "connect-src 'self'" in page.headers["content-security-policy"]
        for url in urls:
            asset = await api.get(url)
            assert asset.status_code == 200, url
        script = (await api.get("/admin/static/docs.js")).text
        assert 'url: "/openapi.json"' in script and "validatorUrl: null" in script

    async def test_the_vendored_swagger_ui_carries_its_licence(self) -> None:
        folder = Path(__file__).resolve().parents[2] / "app" / "web" / "static" / "swagger-ui"
        assert "Apache License" in (folder / "LICENSE").read_text()
        assert "sourceMappingURL" not in (folder / "swagger-ui.css").read_text()[-200:]

    async def test_openapi_documents_the_errors_and_patterns(self, api: httpx.AsyncClient) -> None:
        document = (await api.get("/openapi.json")).json()
        create = document["paths"]["/api/stores"]["post"]
        assert {"401", "403", "409", "413", "422", "429"} <= set(create["responses"])
        assert "Retry-After" in create["responses"]["429"]["headers"]
        body = document["components"]["schemas"]["StoreCreate"]["properties"]
        assert body["name"]["pattern"] == "^[a-z0-9][a-z0-9_-]{0,63}$"
        assert body["base_url"]["pattern"].startswith("^\\s*[Hh][Tt][Tt][Pp]")
        assert body["base_url"]["maxLength"] == 500
        assert "x-store-token" in document["paths"]["/api/pending"]["get"]
        assert "x-store-token" not in document["paths"]["/api/stores"]["get"]


async def test_a_main_store_routed_by_skus_is_refused_naming_the_field(api: httpx.AsyncClient) -> None:
    """Issue 15, 3: the main store takes every sub-store order; `skus` on it would drop, silently,
    the orders of products it does not sell."""
    main = {**STORE, "name": "main", "role": "main", "base_url": "https://shop.example.test/"}
    refused = await api.post("/api/stores", params={"check": "false"}, json={**main, "routing": "skus"})
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_request" and [d["field"] for d in error["details"]] == ["routing"]
    assert "main store" in error["message"]
    assert (await api.get("/api/stores/main")).status_code == 404
    assert (await api.post("/api/stores", params={"check": "false"}, json=main)).status_code == 201
    patched = await api.patch("/api/stores/main", json={"routing": "skus"})
    assert patched.status_code == 422 and patched.json()["error"]["details"][0]["field"] == "routing"
    assert (await api.get("/api/stores/main")).json()["routing"] == "all"
    sub = await api.post("/api/stores", params={"check": "false"}, json={**STORE, "routing": "skus"})
    assert sub.status_code == 201 and sub.json()["routing"] == "skus"


@pytest.mark.parametrize(
    "field", ["base_url", "consumer_key", "consumer_secret", "auth_mode", "routing", "enabled"]
)
async def test_a_null_for_a_required_store_field_is_a_422_naming_it(
    api: httpx.AsyncClient, field: str
) -> None:
    """Issue 18: these columns are NOT NULL; a null was a 500 at commit (and a dropped connection)."""
    assert (await api.post("/api/stores", json=STORE)).status_code == 201
    response = await api.patch("/api/stores/sub1", json={field: None})
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert [d["field"] for d in error["details"]] == [field]
    assert "null" in error["message"]
    assert (await api.get("/api/stores/sub1")).json()["enabled"] is True
    # The document says so: not nullable, so generated clients never send it.
    document = (await api.get("/openapi.json")).json()
    schema = document["components"]["schemas"]["StoreUpdate"]["properties"][field]
    assert "anyOf" not in schema and schema.get("type") != "null", schema
    assert schema.get("default", "absent") is not None


async def test_nullable_store_fields_can_still_be_cleared(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/api/stores", json={**STORE, "backfill_since": "2024-03-01T10:00:00Z", "max_concurrency": 3}
    )
    assert created.status_code == 201
    patched = await api.patch("/api/stores/sub1", json={"backfill_since": None, "max_concurrency": None})
    assert patched.status_code == 200, patched.text
    assert patched.json()["backfill_since"] is None and patched.json()["max_concurrency"] is None


class TestHostNormalisation:
    """Issue 18: hosts in fullwidth or circled digits passed the checks as written, then failed
    on every pass (httpx refuses them), and hid a link-local address from the link-local rule."""

    @pytest.mark.parametrize(
        ("base_url", "stored"),
        [
            ("http://１２７.０.０.１:8080/shop", "http://127.0.0.1:8080/shop"),
            ("http://①②⑦.0.0.1/", "http://127.0.0.1"),
            ("https://ＳＨＯＰ．example.test/", "https://shop.example.test"),
            ("https://bücher.example.test/", "https://bücher.example.test"),  # an IDN is kept as written
        ],
    )
    async def test_hosts_are_stored_as_connected_to(
        self, api: httpx.AsyncClient, base_url: str, stored: str
    ) -> None:
        created = await api.post("/api/stores", json={**STORE, "base_url": base_url})
        assert created.status_code == 201, created.text
        assert created.json()["base_url"] == stored
        patched = await api.patch("/api/stores/sub1", json={"base_url": base_url})
        assert patched.status_code == 200 and patched.json()["base_url"] == stored

    @pytest.mark.parametrize(
        ("base_url", "words"),
        [
            ("http://１６９.２５４.１６９.２５４/latest", "link-local"),
            ("http://⑯⑨.②⑤④.1.1/", "link-local"),
            ("http://０ｘＡ９.0.0.1/", "unusual form"),
            ("http://⑴.example.test/", "not a valid host name"),
            ("http://a\u200b.example.test/", "not a valid host name"),
        ],
    )
    async def test_what_does_not_normalise_to_an_allowed_host_is_refused(
        self, api: httpx.AsyncClient, base_url: str, words: str
    ) -> None:
        response = await api.post("/api/stores", json={**STORE, "base_url": base_url})
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert words in error["message"] and error["details"][0]["field"] == "base_url"
