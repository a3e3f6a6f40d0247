"""Error classification, driven by the recorded error replies of WooCommerce 7.8.2."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
import respx

from app.woocommerce.classify import RequestContext, decode_json, parse_retry_after
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import (
    AuthenticationError,
    FatalError,
    MalformedResponse,
    NotFoundError,
    RetriableError,
    RouteNotFoundError,
    WooCommerceError,
)
from tests.woocommerce.conftest import (
    API,
    BASE_URL,
    HOST,
    KEY,
    SECRET,
    STORAGES,
    api_path,
    load_case,
    recorded_response,
)

Call = Callable[[WooCommerceClient], Awaitable[Any]]


@dataclass(frozen=True)
class ErrorCase:
    case: str
    call: Call
    error: type[WooCommerceError]
    message: str
    ambiguous: bool = False


def _list(wc: WooCommerceClient) -> Awaitable[Any]:
    return wc.list_orders()


def _get_missing(wc: WooCommerceClient) -> Awaitable[Any]:
    return wc.get_order(99999999)


def _create(wc: WooCommerceClient) -> Awaitable[Any]:
    return wc.create_order({"status": "pending"})


def _update_missing(wc: WooCommerceClient) -> Awaitable[Any]:
    return wc.update_order(99999999, {"status": "completed"})


def _refund_missing(wc: WooCommerceClient) -> Awaitable[Any]:
    return wc.create_refund(99999999, {"amount": "1.00"})


RECORDED_ERRORS = [
    ErrorCase("05-", _list, FatalError, "per_page must be between 1 (inclusive) and 100"),
    ErrorCase("06-", _list, FatalError, "Invalid parameter(s): modified_after"),
    ErrorCase("12-", _get_missing, NotFoundError, "Invalid ID."),
    ErrorCase("17-", _create, FatalError, "woocommerce_rest_shop_order_exists"),
    ErrorCase("18-", _create, FatalError, "Invalid parameter(s): status"),
    ErrorCase("20-", _update_missing, NotFoundError, "Invalid ID."),
    ErrorCase("25a-", _list, AuthenticationError, "no valid credentials"),
    ErrorCase("25b-", _create, AuthenticationError, "no valid credentials"),
    ErrorCase("26-", _list, AuthenticationError, "the store rejected the consumer secret"),
    ErrorCase("27-", _list, AuthenticationError, "no valid credentials"),
    ErrorCase("28-", _create, FatalError, "Invalid JSON body passed."),
    ErrorCase("29a-", _get_missing, RouteNotFoundError, "pretty permalinks"),
    ErrorCase("29b-", _list, AuthenticationError, "no valid credentials"),
    ErrorCase("32e-", _refund_missing, NotFoundError, "Invalid order ID."),
    ErrorCase("43a-", _create, FatalError, 'Coupon "no-such-coupon" does not exist!', True),
]

EXACT_CLASS_MATTERS = (FatalError, NotFoundError)


class TestRecordedErrors:
    @pytest.mark.parametrize("storage", STORAGES)
    @pytest.mark.parametrize("expected", RECORDED_ERRORS, ids=lambda e: e.case.rstrip("-"))
    async def test_classification(
        self,
        storage: str,
        expected: ErrorCase,
        client: WooCommerceClient,
        respx_mock: respx.MockRouter,
    ) -> None:
        recorded = load_case(storage, expected.case)
        respx_mock.route(host=HOST).mock(return_value=recorded_response(recorded))

        with pytest.raises(WooCommerceError) as info:
            await expected.call(client)

        error = info.value
        if expected.error in EXACT_CLASS_MATTERS:
            assert type(error) is expected.error
        else:
            assert isinstance(error, expected.error)
        body = recorded["response"]["body"]
        assert error.status == recorded["response"]["status"]
        assert error.code == body["code"]
        assert error.body == body
        assert expected.message in error.message
        assert not error.retriable
        assert error.ambiguous is expected.ambiguous
        assert error.store == "sub1"

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_refund_on_missing_order_is_not_found_despite_http_500(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case(storage, "32e-")
        assert recorded["response"]["status"] == 500
        assert recorded["response"]["body"]["data"] == 404  # a bare integer
        respx_mock.post(f"{API}/orders/99999999/refunds").mock(return_value=recorded_response(recorded))
        with pytest.raises(NotFoundError) as info:
            await client.create_refund(99999999, {"amount": "1.00"})
        assert not isinstance(info.value, RetriableError)
        assert "HTTP 404" in info.value.message

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_already_trashed_is_fatal(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case(storage, "33d-")
        respx_mock.delete(host=HOST).mock(return_value=recorded_response(recorded))
        with pytest.raises(FatalError) as info:
            await client.delete_order(821)
        assert type(info.value) is FatalError
        assert (info.value.status, info.value.code) == (410, "woocommerce_rest_already_trashed")

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_501_with_a_woocommerce_code_is_not_retried(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        recorded = load_case(storage, "36d-")
        respx_mock.delete(host=HOST).mock(return_value=recorded_response(recorded))
        with pytest.raises(FatalError) as info:
            await client.delete_webhook(4)
        assert info.value.code == "woocommerce_rest_trash_not_supported"
        assert not info.value.retriable

    @pytest.mark.parametrize("storage", STORAGES)
    async def test_rejected_oauth_signature(
        self, storage: str, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        rejected = load_case(storage, "39-")["more_vectors"][-1]
        respx_mock.get(host=HOST).mock(return_value=recorded_response(rejected))
        with pytest.raises(AuthenticationError, match="rejected the OAuth signature"):
            await client.list_orders()

    async def test_read_only_key(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        respx_mock.post(f"{API}/orders").mock(
            return_value=httpx.Response(
                401,
                json={
                    "code": "woocommerce_rest_authentication_error",
                    "message": "The API key provided does not have write permissions.",
                    "data": {"status": 401},
                },
            )
        )
        with pytest.raises(AuthenticationError, match="^the key lacks write permission"):
            await client.create_order({})


class TestRateLimitAndServerErrors:
    async def test_429_with_retry_after_seconds(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(f"{API}/orders/1").mock(
            return_value=httpx.Response(429, text="slow down", headers={"Retry-After": "30"})
        )
        with pytest.raises(RetriableError) as info:
            await client.get_order(1)
        assert info.value.kind == "rate_limited"
        assert info.value.retry_after == 30.0
        assert info.value.status == 429

    async def test_429_with_retry_after_http_date(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        later = datetime.now(UTC) + timedelta(seconds=120)
        respx_mock.get(f"{API}/orders/1").mock(
            return_value=httpx.Response(
                429,
                json={"code": "too_many", "message": "Too many requests"},
                headers={"Retry-After": format_datetime(later, usegmt=True)},
            )
        )
        with pytest.raises(RetriableError) as info:
            await client.get_order(1)
        assert info.value.kind == "rate_limited"
        assert info.value.retry_after is not None
        assert 115 <= info.value.retry_after <= 120
        assert info.value.code == "too_many"

    def test_retry_after_parsing(self) -> None:
        now = datetime(2026, 11, 22, 8, 0, 0, tzinfo=UTC)
        assert parse_retry_after("Sun, 22 Nov 2026 08:01:30 GMT", now) == 90.0
        assert parse_retry_after("Sun, 22 Nov 2026 07:00:00 GMT", now) == 0.0
        assert parse_retry_after("soon", now) is None
        assert parse_retry_after(None, now) is None

    async def test_5xx_html_from_a_proxy(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
        respx_mock.post(f"{API}/orders").mock(
            return_value=httpx.Response(502, text=page, headers={"content-type": "text/html"})
        )
        with pytest.raises(RetriableError) as info:
            await client.create_order({})
        error = info.value
        assert error.kind == "server_error"
        assert error.message == "store returned HTML, not JSON (HTTP 502): 502 Bad Gateway"
        assert error.ambiguous  # PHP may have saved the order before the proxy gave up
        assert error.body == page

    async def test_5xx_on_a_read_is_not_ambiguous(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(f"{API}/orders/1").mock(
            return_value=httpx.Response(
                503, json={"code": "db_error", "message": "Error establishing a database connection"}
            )
        )
        with pytest.raises(RetriableError) as info:
            await client.get_order(1)
        assert info.value.kind == "server_error"
        assert info.value.code == "db_error"
        assert not info.value.ambiguous

    async def test_waf_403_html_is_an_authentication_error(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.put(f"{API}/orders/1").mock(
            return_value=httpx.Response(
                403, text="<title>Attention Required! | Cloudflare</title>", headers={}
            )
        )
        with pytest.raises(AuthenticationError, match="Attention Required! | Cloudflare"):
            await client.update_order(1, {})

    async def test_redirect_is_not_followed_and_secrets_stay_out(self, respx_mock: respx.MockRouter) -> None:
        location = (
            f"https://www.shop.example.test/shop2/wp-json/wc/v3/orders"
            f"?consumer_key={KEY}&consumer_secret={SECRET}"
        )
        route = respx_mock.post(f"{API}/orders").mock(
            return_value=httpx.Response(301, headers={"Location": location})
        )
        async with WooCommerceClient(BASE_URL, KEY, SECRET, auth_mode="query") as wc:
            with pytest.raises(FatalError, match="redirected") as info:
                await wc.create_order({})
        assert route.call_count == 1
        assert "www.shop.example.test" in info.value.message
        assert KEY not in info.value.message and SECRET not in info.value.message


class TestMalformed:
    async def test_html_200(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        page = (
            "<!DOCTYPE html><html><head><title>Site &amp; Shop | Maintenance</title></head>"
            "<body><h1>Briefly unavailable for scheduled maintenance.</h1></body></html>"
        )
        respx_mock.post(f"{API}/orders").mock(
            return_value=httpx.Response(200, text=page, headers={"content-type": "text/html; charset=UTF-8"})
        )
        with pytest.raises(MalformedResponse) as info:
            await client.create_order({})
        error = info.value
        assert error.message == "store returned HTML, not JSON (HTTP 200): Site & Shop | Maintenance"
        assert error.kind == "malformed" and error.retriable and error.ambiguous
        assert error.status == 200

    async def test_wrong_shape(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        respx_mock.get(f"{API}/orders/5").mock(return_value=httpx.Response(200, json=[{"id": 5}]))
        with pytest.raises(MalformedResponse, match="expected an object, got a list"):
            await client.get_order(5)

    async def test_list_expected(self, client: WooCommerceClient, respx_mock: respx.MockRouter) -> None:
        respx_mock.get(f"{API}/orders/5/notes").mock(return_value=httpx.Response(200, json={"id": 5}))
        with pytest.raises(MalformedResponse, match="expected a list, got an object"):
            await client.list_order_notes(5)

    async def test_php_notice_before_json_is_tolerated(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        body = (
            "<br />\n<b>Deprecated</b>:  Creation of dynamic property in <b>x.php</b> on line "
            '<b>12</b><br />\n\ufeff{"id": 5, "status": "pending"}'
        )
        respx_mock.get(f"{API}/orders/5").mock(return_value=httpx.Response(200, text=body))
        order = await client.get_order(5)
        assert order == {"id": 5, "status": "pending"}

    def test_decode_json_refuses_html_with_embedded_braces(self) -> None:
        with pytest.raises(ValueError):
            decode_json("<html><style>a { color: red }</style><script>[1]</script></html>")


class TestTransportErrors:
    @pytest.mark.parametrize(
        ("exception", "kind", "ambiguous", "words"),
        [
            (httpx.ReadTimeout("timed out"), "timeout", True, f"{HOST}:443 stopped answering"),
            (httpx.WriteTimeout("timed out"), "timeout", True, f"sending the request to {HOST}:443 stalled"),
            (
                httpx.ConnectTimeout("timed out"),
                "timeout",
                False,
                f"{HOST}:443 did not answer the connection",
            ),
            (
                httpx.ConnectError("[Errno 111] Connection refused"),
                "network",
                False,
                f"{HOST}:443 refused the connection",
            ),
            (httpx.ReadError("connection reset"), "network", True, f"{HOST}:443 reset the connection"),
            (
                httpx.RemoteProtocolError("Server disconnected"),
                "network",
                True,
                f"{HOST}:443 closed the connection without an answer",
            ),
        ],
        ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
    )
    async def test_on_a_create(
        self,
        exception: Exception,
        kind: str,
        ambiguous: bool,
        words: str,
        client: WooCommerceClient,
        respx_mock: respx.MockRouter,
    ) -> None:
        respx_mock.post(f"{API}/orders").mock(side_effect=exception)
        with pytest.raises(RetriableError) as info:
            await client.create_order({})
        assert not isinstance(info.value, httpx.HTTPError)
        assert info.value.kind == kind
        assert info.value.ambiguous is ambiguous
        assert info.value.status is None
        # In words, with the address; not the exception's class or the socket library's text.
        assert words in info.value.message
        assert type(exception).__name__ not in info.value.message and "Errno" not in info.value.message

    async def test_read_timeout_on_a_get_is_not_ambiguous(
        self, client: WooCommerceClient, respx_mock: respx.MockRouter
    ) -> None:
        respx_mock.get(host=HOST, path=api_path("/orders")).mock(side_effect=httpx.ReadTimeout("timed out"))
        with pytest.raises(RetriableError) as info:
            await client.list_orders()
        assert info.value.kind == "timeout"
        assert not info.value.ambiguous

    def test_request_context_knows_writes(self) -> None:
        assert RequestContext(method="DELETE", path="/orders/1").unsafe
        assert not RequestContext(method="GET", path="/orders").unsafe


class TestNoSecretsInErrors:
    async def test_query_auth_echo_is_redacted(self, respx_mock: respx.MockRouter) -> None:
        # A store that echoes the request URL, credentials included, in its error page.
        echo = (
            "<html><title>Error</title><body>Bad request: /wp-json/wc/v3/orders"
            f"?consumer_key={KEY}&amp;consumer_secret={SECRET}</body></html>"
        )
        respx_mock.get(host=HOST).mock(return_value=httpx.Response(400, text=echo))
        async with WooCommerceClient(BASE_URL, KEY, SECRET, auth_mode="query") as wc:
            with pytest.raises(FatalError) as info:
                await wc.list_orders()
        error = info.value
        for text in (error.message, str(error), repr(error), str(error.body)):
            assert KEY not in text
            assert SECRET not in text
        assert "[REDACTED]" in str(error.body)
