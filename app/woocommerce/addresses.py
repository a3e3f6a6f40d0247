"""The link-local rule where it matters: at the address a store connection actually goes to.

Cloud metadata services answer on link-local addresses (169.254.0.0/16, fe80::/10). The store
URL's check (app.api.schemas) refuses such an address written in the URL, but a host name can
resolve to one (a DNS record pointed there, at any time). So, unless
WCSYNC_ALLOW_LINK_LOCAL_URLS is set, store connections resolve the name themselves, refuse it if
any of its addresses is link-local, and connect to the address they checked (not to the name
again, which could resolve elsewhere the second time). TLS still verifies the name.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

Resolver = Callable[[str, int], Awaitable[list[str]]]


def is_link_local(address: str) -> bool:
    """Whether an IP address (an IPv6 one possibly with a %scope) is link-local, an IPv4-mapped
    IPv6 address included. Not an address: False."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_link_local


async def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address resolves to itself)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class LinkLocalRefused(httpcore.ConnectError):
    pass


class NoLinkLocalBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, refusing connections to link-local addresses."""

    def __init__(self, resolver: Resolver = resolve) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._resolve = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._resolve(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve {host}: {exc}") from exc
        refused = [a for a in addresses if is_link_local(a)]
        if refused:
            raise LinkLocalRefused(
                f"{host} resolves to the link-local address {refused[0]}, where cloud metadata "
                "services answer; wcsync does not connect there unless WCSYNC_ALLOW_LINK_LOCAL_URLS=true"
            )
        if not addresses:
            raise httpcore.ConnectError(f"{host} resolves to no address")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        return await self._inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def no_link_local_transport(
    resolver: Resolver = resolve, verify: ssl.SSLContext | bool = True
) -> httpx.AsyncHTTPTransport:
    """httpx's own transport (TLS, pooling, HTTP/1.1), connecting through NoLinkLocalBackend.
    `verify` is the stores' TLS trust (WCSYNC_CA_BUNDLE): a client given a transport uses the
    transport's, not its own."""
    transport = httpx.AsyncHTTPTransport(verify=verify)
    # httpx does not take a network backend; its pool (httpcore's) does. Checked by the tests.
    transport._pool._network_backend = NoLinkLocalBackend(resolver)
    return transport


def store_transport_factory(
    allow_link_local: bool, verify: ssl.SSLContext | bool = True
) -> Callable[[object], httpx.AsyncBaseTransport] | None:
    """The app's transport for each store's client: None (httpx's default) when link-local
    addresses are allowed, else one that refuses them, trusting what `verify` trusts."""
    if allow_link_local:
        return None
    return lambda _store: no_link_local_transport(verify=verify)
