"""The store check (app.sync.stores.check_store) on fake stores: what it says when the web server
strips the Authorization header, when permalinks are Plain or no WordPress answers, when the store
cannot be reached at all, and that a store that is down does not pass the clock check."""

from __future__ import annotations

import socket
import ssl
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from app.models import AuthMode, Store
from app.sync.clients import ClientRegistry
from app.sync.stores import StoreCheck, check_store
from app.testing import FakeStore
from tests.factories import make_store


@pytest.fixture
async def registry() -> AsyncIterator[Callable[..., ClientRegistry]]:
    made: list[ClientRegistry] = []

    def make(transport: Callable[[Store], httpx.AsyncBaseTransport | None] | None = None) -> ClientRegistry:
        clients = ClientRegistry(timeout=5.0, max_concurrency=2, transport_factory=transport)
        made.append(clients)
        return clients

    yield make
    for clients in made:
        await clients.aclose()


def store_for(fake: FakeStore, **overrides: object) -> Store:
    store = make_store(fake.name, base_url=fake.base_url, auth_mode=AuthMode.basic)
    store.consumer_key, store.consumer_secret = fake.consumer_key, fake.consumer_secret
    for name, value in overrides.items():
        setattr(store, name, value)
    return store


def item(check: StoreCheck, name: str) -> tuple[bool, str]:
    (found,) = [c for c in check.checks if c.name == name]
    return found.ok, found.detail


def no_raw_transport_text(check: StoreCheck) -> None:
    text = " ".join(c.detail for c in check.checks)
    for raw in ("ConnectError", "Errno", "ConnectTimeout", "SSL:", "_ssl.c", "All connection attempts"):
        assert raw not in text, text


class TestAuthorizationHeaderStripped:
    async def test_basic_auth_refused_but_query_accepted_names_the_cause_and_both_remedies(
        self, registry: Callable[..., ClientRegistry]
    ) -> None:
        fake = FakeStore("sub1")
        fake.knobs.strip_authorization = True
        clients = registry(lambda store: fake.transport())
        check = await check_store(clients, store_for(fake))
        assert not check.ok
        ok, detail = item(check, "read")
        assert not ok
        for phrase in (
            "Authorization header",
            "auth_mode query",
            "fastcgi_param HTTP_AUTHORIZATION $http_authorization;",
            "CGIPassAuth On",
            'SetEnvIf Authorization "(.*)" HTTP_AUTHORIZATION=$1',
        ):
            assert phrase in detail, detail
        assert fake.consumer_secret not in detail
        # ... and the remedy works: with query-string credentials the same store passes.
        assert (await check_store(clients, store_for(fake, auth_mode=AuthMode.query))).ok

    async def test_a_wrong_secret_there_is_not_blamed_on_the_header(
        self, registry: Callable[..., ClientRegistry]
    ) -> None:
        fake = FakeStore("sub1")
        fake.knobs.strip_authorization = True
        clients = registry(lambda store: fake.transport())
        check = await check_store(clients, store_for(fake, consumer_secret="cs_wrong_0123456789"))
        ok, detail = item(check, "read")
        assert not ok and "refused the credentials" in detail
        assert "Authorization header is" not in detail and "auth_mode query" not in detail

    async def test_a_host_that_passes_the_header_on_is_not_blamed(
        self, registry: Callable[..., ClientRegistry]
    ) -> None:
        fake = FakeStore("sub1")
        check = await check_store(registry(lambda store: fake.transport()), store_for(fake))
        assert check.ok and item(check, "read") == (True, "The key can read orders.")


class TestNoRestIndex:
    async def test_plain_permalinks_are_said_as_such(self, registry: Callable[..., ClientRegistry]) -> None:
        fake = FakeStore("sub1")
        fake.knobs.plain_permalinks = True
        check = await check_store(registry(lambda store: fake.transport()), store_for(fake))
        ok, detail = item(check, "reachable")
        assert not ok
        assert "permalinks are Plain" in detail and "Settings > Permalinks" in detail
        assert [c.name for c in check.checks] == ["reachable"]  # no read, no clock from a 404

    @pytest.mark.parametrize(
        "answer",
        [
            httpx.Response(404, html="<html><head><title>Not Found</title></head><body>nginx</body></html>"),
            httpx.Response(200, html="<!doctype html><html><head><title>My blog</title></head></html>"),
            httpx.Response(404, json={"message": "no such page"}),
        ],
        ids=["404-page", "html-for-everything", "json-404"],
    )
    async def test_no_wordpress_at_the_address_asks_to_check_the_url_not_the_permalinks(
        self, registry: Callable[..., ClientRegistry], answer: httpx.Response
    ) -> None:
        other_site = httpx.MockTransport(lambda request: answer)
        store = make_store("sub1", base_url="https://shop.example.test", auth_mode=AuthMode.basic)
        check = await check_store(registry(lambda store: other_site), store)
        ok, detail = item(check, "reachable")
        assert not ok
        assert detail.startswith("No WordPress site answers at https://shop.example.test")
        assert "Check the URL" in detail and "permalinks" not in detail.lower()


def refusing_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def failing(exc: Callable[[httpx.Request], Exception]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc(request)

    return httpx.MockTransport(handler)


def dns_failure(request: httpx.Request) -> Exception:
    try:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    except socket.gaierror as cause:
        try:
            raise httpx.ConnectError("[Errno -2] Name or service not known", request=request) from cause
        except httpx.ConnectError as error:
            return error


def untrusted_certificate(request: httpx.Request) -> Exception:
    cause = ssl.SSLCertVerificationError(
        1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1006)"
    )
    cause.verify_message = "self-signed certificate"
    error = httpx.ConnectError(str(cause), request=request)
    error.__cause__ = cause
    return error


class TestConnectionErrorsInWords:
    async def test_connection_refused(self, registry: Callable[..., ClientRegistry]) -> None:
        port = refusing_port()
        store = make_store("sub1", base_url=f"http://127.0.0.1:{port}", auth_mode=AuthMode.oauth1)
        check = await check_store(registry(), store)
        ok, detail = item(check, "reachable")
        assert not ok and f"127.0.0.1:{port} refused the connection" in detail
        no_raw_transport_text(check)

    @pytest.mark.parametrize(
        ("failure", "words"),
        [
            (dns_failure, "the name shop.example.test does not resolve (check the URL)"),
            (lambda request: httpx.ConnectTimeout("timed out", request=request), "did not answer"),
            (untrusted_certificate, "shop.example.test's certificate: self-signed certificate"),
        ],
        ids=["dns", "connect-timeout", "certificate"],
    )
    async def test_other_failures(
        self,
        registry: Callable[..., ClientRegistry],
        failure: Callable[[httpx.Request], Exception],
        words: str,
    ) -> None:
        store = make_store("sub1", base_url="https://shop.example.test", auth_mode=AuthMode.basic)
        check = await check_store(registry(lambda store: failing(failure)), store)
        ok, detail = item(check, "reachable")
        assert not ok and words in detail, detail
        no_raw_transport_text(check)


class TestClock:
    async def test_a_store_that_is_down_does_not_pass_the_clock_check(
        self, registry: Callable[..., ClientRegistry]
    ) -> None:
        fake = FakeStore("sub1")
        clients = registry(lambda store: fake.transport())
        store = store_for(fake)
        answered = await check_store(clients, store)
        assert item(answered, "clock")[0] and answered.clock_skew_seconds == 0
        fake.knobs.down = True  # a 503 page (with a Date header of its own)
        down = await check_store(clients, store)
        assert not down.ok and not item(down, "reachable")[0]
        assert "clock" not in [c.name for c in down.checks] and down.clock_skew_seconds is None

    async def test_a_store_that_cannot_be_reached_gets_no_clock_verdict(
        self, registry: Callable[..., ClientRegistry]
    ) -> None:
        store = make_store("sub1", base_url=f"http://127.0.0.1:{refusing_port()}", auth_mode=AuthMode.oauth1)
        check = await check_store(registry(), store)
        assert [c.name for c in check.checks] == ["reachable"] and check.clock_skew_seconds is None
