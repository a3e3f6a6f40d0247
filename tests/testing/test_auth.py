"""Authentication as WooCommerce 7.8 runs it: Basic/query over HTTPS, OAuth 1.0a over HTTP."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from app.testing import FakeStore, oauth_base_string, oauth_signature, sign_oauth_query
from tests.conftest import RECORDED
from tests.testing.conftest import API, make_store

CANNOT_VIEW = {
    "code": "woocommerce_rest_cannot_view",
    "message": "Sorry, you cannot list resources.",
    "data": {"status": 401},
}


def recorded_vectors() -> list[dict[str, str]]:
    vectors = []
    for storage in ("posts", "hpos"):
        case = json.loads((RECORDED / storage / "39-oauth1-test-vector.json").read_text())
        vectors.append(case["oauth"])
        vectors.extend(v["oauth"] for v in case["more_vectors"])
    return vectors


@pytest.mark.parametrize(
    "vector", recorded_vectors(), ids=lambda v: f"{v['oauth_nonce'][:8]}-{v['encoding'][:12]}"
)
def test_base_string_and_signature_match_the_recorded_vectors(vector: dict[str, str]) -> None:
    base = oauth_base_string("GET", vector["signed_url"], vector["signed_params"])
    signature = oauth_signature(base, vector["consumer_secret"], vector["signature_method"])
    if vector["encoding"].startswith("values encoded twice"):
        assert base == vector["signature_base_string"]
        assert signature == vector["oauth_signature"]
    else:  # the recorder's deliberately wrong, once-encoded signer
        assert base != vector["signature_base_string"]
        assert signature != vector["oauth_signature"]


def test_array_params_are_double_encoded_with_brackets() -> None:
    base = oauth_base_string("GET", "http://h/wp-json/wc/v3/orders", {"status": ["processing", "on-hold"]})
    assert base.endswith("&status%255B0%255D%3Dprocessing%26status%255B1%255D%3Don-hold")


@pytest.fixture
async def http_store() -> FakeStore:
    return make_store(https=False, base_url="http://127.0.0.1:8101")


def signed(
    store: FakeStore, method: str, params: dict[str, str], *, nonce: str | None = None, **kw: object
) -> dict[str, str]:
    return sign_oauth_query(
        method,
        f"{store.base_url}{API}/orders",
        params,
        consumer_key=str(kw.get("key", store.consumer_key)),
        consumer_secret=str(kw.get("secret", store.consumer_secret)),
        timestamp=int(str(kw.get("timestamp", int(store.clock().timestamp())))),
        nonce=nonce or uuid.uuid4().hex,
        signature_method=str(kw.get("signature_method", "HMAC-SHA256")),
    )


class TestPlainHttp:
    async def test_basic_auth_is_ignored(self, http_store: FakeStore) -> None:
        async with http_store.client() as client:  # Basic credentials preset
            response = await client.get(f"{API}/orders")
        assert response.status_code == 401 and response.json() == CANNOT_VIEW

    async def test_signed_requests_pass_and_a_nonce_is_single_use(self, http_store: FakeStore) -> None:
        async with httpx.AsyncClient(
            transport=http_store.transport(), base_url=http_store.base_url
        ) as client:
            query = signed(http_store, "GET", {"per_page": "5", "modified_after": "2020-01-01T00:00:00"})
            assert (await client.get(f"{API}/orders", params=query)).status_code == 200
            reused = await client.get(f"{API}/orders", params=query)
            assert reused.status_code == 401
            assert reused.json()["message"] == "Invalid nonce - nonce has already been used."
            sha1 = signed(http_store, "GET", {"per_page": "5"}, signature_method="HMAC-SHA1")
            assert (await client.get(f"{API}/orders", params=sha1)).status_code == 200

    async def test_a_json_body_is_not_signed(self, http_store: FakeStore) -> None:
        async with httpx.AsyncClient(
            transport=http_store.transport(), base_url=http_store.base_url
        ) as client:
            response = await client.post(
                f"{API}/orders",
                params=signed(http_store, "POST", {}),
                json={"line_items": [{"sku": "SKU-MUG-001", "quantity": 1}]},
            )
        assert response.status_code == 201

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"secret": "cs_wrong"}, "Invalid signature - provided signature does not match."),
            ({"key": "ck_other"}, "Consumer key is invalid."),
            ({"timestamp": 1_000_000_000}, "Invalid timestamp."),
            ({"signature_method": "PLAINTEXT"}, "Invalid signature - signature method is invalid."),
        ],
    )
    async def test_bad_signatures(
        self, http_store: FakeStore, change: dict[str, object], message: str
    ) -> None:
        query = signed(http_store, "GET", {"per_page": "1"}, **change)
        async with httpx.AsyncClient(
            transport=http_store.transport(), base_url=http_store.base_url
        ) as client:
            response = await client.get(f"{API}/orders", params=query)
        assert response.status_code == 401
        assert response.json() == {
            "code": "woocommerce_rest_authentication_error",
            "message": message,
            "data": {"status": 401},
        }

    async def test_a_partial_set_of_oauth_params_is_named(self, http_store: FakeStore) -> None:
        async with httpx.AsyncClient(
            transport=http_store.transport(), base_url=http_store.base_url
        ) as client:
            response = await client.get(
                f"{API}/orders", params={"oauth_consumer_key": http_store.consumer_key}
            )
        assert response.json()["code"] == "woocommerce_rest_authentication_missing_parameter"
        assert response.json()["message"] == (
            "Missing OAuth parameters oauth_timestamp, oauth_nonce, oauth_signature, oauth_signature_method"
        )

    async def test_oauth_in_the_authorization_header(self, http_store: FakeStore) -> None:
        query = signed(http_store, "GET", {"per_page": "2"})
        oauth = ", ".join(
            f'{k}="{httpx.QueryParams({k: v})[k]}"' for k, v in query.items() if k.startswith("oauth_")
        )
        async with httpx.AsyncClient(
            transport=http_store.transport(), base_url=http_store.base_url
        ) as client:
            response = await client.get(
                f"{API}/orders", params={"per_page": "2"}, headers={"Authorization": f"OAuth {oauth}"}
            )
        assert response.status_code == 200


class TestHttps:
    async def test_query_string_keys_work_and_echo_in_the_link(self, store: FakeStore) -> None:
        for _ in range(3):
            store.place_order([("SKU-MUG-001", 1)])
        async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url) as client:
            response = await client.get(
                f"{API}/orders",
                params={"per_page": "1", "consumer_key": "ck_test", "consumer_secret": "cs_test"},
            )
        assert response.status_code == 200
        assert "consumer_secret=cs_test" in response.headers["link"]

    async def test_unknown_key_is_anonymous_and_wrong_secret_is_an_error(self, store: FakeStore) -> None:
        async with httpx.AsyncClient(transport=store.transport(), base_url=store.base_url) as client:
            unknown = await client.post(f"{API}/orders", json={}, auth=("ck_nobody", "cs_x"))
            wrong = await client.get(f"{API}/orders", auth=("ck_test", "cs_wrong"))
            item = await client.get(f"{API}/orders/1")
        assert unknown.status_code == 401 and unknown.json()["code"] == "woocommerce_rest_cannot_create"
        assert wrong.json()["message"] == "Consumer secret is invalid."
        assert item.json()["message"] == "Sorry, you cannot view this resource."
        assert "www-authenticate" not in wrong.headers

    async def test_the_rest_route_form_is_never_authenticated(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/", params={"rest_route": "/wc/v3/orders"})
        assert response.status_code == 401 and response.json() == CANNOT_VIEW
        index = await client.get("/", params={"rest_route": "/"})
        assert index.status_code == 200 and "wc/v3" in index.json()["namespaces"]

    @pytest.mark.parametrize(
        ("permissions", "method", "message"),
        [
            ("read", "POST", "The API key provided does not have write permissions."),
            ("read", "DELETE", "The API key provided does not have write permissions."),
            ("write", "GET", "The API key provided does not have read permissions."),
        ],
    )
    async def test_key_scope_follows_the_real_method(
        self, permissions: str, method: str, message: str
    ) -> None:
        store = make_store(key_permissions=permissions)  # type: ignore[arg-type]
        async with store.client() as client:
            response = await client.request(method, f"{API}/orders")
            allowed = await client.request("POST" if method == "GET" else "GET", f"{API}/orders", json={})
        assert response.status_code == 401 and response.json()["message"] == message
        assert allowed.status_code in (200, 201)

    async def test_method_override_is_honoured(self, store: FakeStore, client: httpx.AsyncClient) -> None:
        order = store.place_order([("SKU-MUG-001", 1)])
        response = await client.post(
            f"{API}/orders/{order['id']}", headers={"X-HTTP-Method-Override": "DELETE"}
        )
        assert response.status_code == 200
        assert store.orders[order["id"]]["status"] == "trash"
        by_param = await client.post(
            f"{API}/orders/{order['id']}", params={"_method": "DELETE", "force": "true"}
        )
        assert by_param.status_code == 200 and order["id"] not in store.orders
