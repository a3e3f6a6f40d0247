"""The HTTP API's contract: auth, validation, error shape, secrets never returned."""

from __future__ import annotations

from collections.abc import AsyncIterator

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
    assert page.status_code == 200 and page.json() == {"items": [], "total": 0, "limit": 10, "offset": 0}
    assert (await api.get("/api/links", params={"state": "weird"})).status_code == 422
    assert (await api.get("/api/links", params={"limit": 0})).status_code == 422
