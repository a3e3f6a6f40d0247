"""The link-local rule at connect time: a name that resolves to a link-local address is refused
(issue 18), whatever the URL said; other names connect to the address that was checked."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from app.woocommerce import addresses
from app.woocommerce.client import WooCommerceClient
from app.woocommerce.errors import RetriableError


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("169.254.169.254", True),
        ("fe80::1%eth0", True),
        ("::ffff:169.254.1.1", True),
        ("127.0.0.1", False),
        ("10.0.0.1", False),
        ("2001:db8::1", False),
        ("shop.example", False),
    ],
)
def test_is_link_local(address: str, expected: bool) -> None:
    assert addresses.is_link_local(address) is expected


def resolving_to(*answers: str) -> addresses.Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        resolve.asked.append(host)  # type: ignore[attr-defined]
        return list(answers)

    resolve.asked = []  # type: ignore[attr-defined]
    return resolve


@pytest.fixture
async def http_server() -> AsyncIterator[int]:
    """A one-answer HTTP server on loopback: where a checked address is connected to."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_a_name_resolving_to_a_link_local_address_is_not_connected_to() -> None:
    resolver = resolving_to("203.0.113.7", "169.254.169.254")
    async with httpx.AsyncClient(transport=addresses.no_link_local_transport(resolver)) as client:
        with pytest.raises(httpx.ConnectError) as refused:
            await client.get("http://metadata.shop.test/latest/meta-data/")
    assert "metadata.shop.test resolves to the link-local address 169.254.169.254" in str(refused.value)
    assert resolver.asked == ["metadata.shop.test"]  # type: ignore[attr-defined]


async def test_other_names_connect_to_the_address_checked(http_server: int) -> None:
    resolver = resolving_to("127.0.0.1")
    async with httpx.AsyncClient(transport=addresses.no_link_local_transport(resolver)) as client:
        response = await client.get(f"http://shop.test:{http_server}/")
    assert response.status_code == 200 and response.json() == []
    assert resolver.asked == ["shop.test"]  # type: ignore[attr-defined]


async def test_the_store_client_reports_it_in_words() -> None:
    client = WooCommerceClient(
        "http://metadata.shop.test",
        "ck_x",
        "cs_x",
        transport=addresses.no_link_local_transport(resolving_to("169.254.169.254")),
    )
    async with client:
        with pytest.raises(RetriableError) as failed:
            await client.site_index()
    assert "link-local" in str(failed.value) and "WCSYNC_ALLOW_LINK_LOCAL_URLS" in str(failed.value)


async def test_the_default_resolver_resolves_loopback() -> None:
    assert "127.0.0.1" in await addresses.resolve("127.0.0.1", 80)


def test_the_app_uses_it_unless_link_local_is_allowed() -> None:
    factory = addresses.store_transport_factory(allow_link_local=False)
    assert factory is not None
    transport = factory(object())
    assert isinstance(transport, httpx.AsyncHTTPTransport)
    assert isinstance(transport._pool._network_backend, addresses.NoLinkLocalBackend)
    assert addresses.store_transport_factory(allow_link_local=True) is None


@pytest.mark.parametrize("allowed", [False, True])
async def test_the_app_wires_it(database_url: str, allowed: bool) -> None:
    from app.main import create_app
    from tests.e2e.support import service_settings
    from tests.factories import make_store

    app = create_app(service_settings(database_url, allow_link_local_urls=allowed))
    async with app.router.lifespan_context(app):
        client = app.state.clients.get(make_store("sub1", base_url="http://shop.test"))
        pool = client._http._transport._pool
        assert isinstance(pool._network_backend, addresses.NoLinkLocalBackend) is not allowed
