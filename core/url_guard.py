"""Where a server-side request a tenant can steer may go: the public internet only, unless the
operator allows private networks (``ATENDE_ALLOW_PRIVATE_NETWORKS=1``, for a self-hosted Atende
calling its own services).

A tenant admin must not turn the server into a probe of the network it runs in (loopback, the
private ranges, link-local cloud metadata at 169.254.169.254), nor make it send a channel's token
there. Every such request (a channel's ``api_base``, the media URLs a provider hands back, webhooks)
goes through here twice: ``check_url`` when the admin saves the address (a 422 naming the field),
and the HTTP clients below at each connection, redirects included. Those resolve the name once,
check every address it gives and connect to the address they checked, so a name that answers a
public address to the check and a private one right after (DNS rebinding) still reaches only the
public one. TLS keeps the name: its certificate and SNI are the host's, not the address's.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import httpcore
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import Connection

from core.errors import ForbiddenError, InvalidInputError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
"""Counted global by Python, yet they reach IPv4 addresses, private ones included, through a gateway."""
ALLOW_SETTING = "ATENDE_ALLOW_PRIVATE_NETWORKS"


class PrivateAddressError(ForbiddenError):
    """A connection was about to go to an address that is not public; nothing was sent."""

    def __init__(self, host: str, address: IPAddress) -> None:
        super().__init__(
            f"{host} is a private or local address ({address}): only public addresses are allowed "
            f"unless the operator sets {ALLOW_SETTING}=1"
        )
        self.host = host
        self.address = address


def is_public(address: IPAddress) -> bool:
    """Whether ``address`` is on the public internet (an IPv4 one inside IPv6 is judged as itself)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return is_public(embedded)
        if any(address in network for network in NAT64):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_reserved
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
    )


async def lookup(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to (an address resolves to itself); OSError when none."""
    loop = asyncio.get_running_loop()
    found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{host} has no address")
    return addresses


async def public_addresses(host: str, port: int) -> list[IPAddress]:
    """``host``'s addresses, resolved once; PrivateAddressError if any of them is not public."""
    addresses = await lookup(host, port)
    for address in addresses:
        if not is_public(address):
            raise PrivateAddressError(host, address)
    return addresses


async def check_url(url: str, *, field: str, allow_private: bool) -> None:
    """InvalidInputError on ``field`` when ``url`` is not http(s), or its host is, or resolves to, an
    address that is not public. Run when an admin saves the address; the clients check again."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(field, "must be an http:// or https:// address with a host")
    if allow_private:
        return
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        await public_addresses(host, port)
    except ValueError as exc:
        raise InvalidInputError(field, "has an invalid port") from exc
    except OSError as exc:
        raise InvalidInputError(field, f"the host {host!r} does not resolve") from exc
    except PrivateAddressError as exc:
        raise InvalidInputError(field, exc.detail) from exc


async def check_webhook_target(url: str, *, allow_private: bool) -> None:
    """InvalidInputError on ``url`` when its host is, or resolves to, an address that is not public."""
    await check_url(url, field="url", allow_private=allow_private)


# ---- httpx: a network backend that connects to the address it checked ----------------------------


class _PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """httpcore calls ``connect_tcp`` with the URL's host for every new connection (each redirect's
    too); TLS then starts on the stream with the host as its name, so only the address changes."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await public_addresses(host, port)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        failed: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failed = exc
        assert failed is not None
        raise failed

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's signature
        socket_options: Any = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("outbound requests do not use unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport whose connections go to public addresses only (PrivateAddressError else)."""

    def __init__(self, *, limits: httpx.Limits | None = None, retries: int = 0) -> None:
        limits = limits or httpx.Limits(max_connections=100, max_keepalive_connections=20)
        super().__init__(trust_env=False, limits=limits, retries=retries)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            retries=retries,
            network_backend=_PublicOnlyBackend(),
        )


def outbound_client(*, allow_private: bool, **options: Any) -> httpx.AsyncClient:
    """An httpx client for requests a tenant can steer. Guarded, it ignores proxy variables (a proxy
    would be the address checked, not the server); allowed private networks, it is a plain client."""
    if allow_private:
        return httpx.AsyncClient(**options)
    return httpx.AsyncClient(transport=PublicOnlyTransport(), trust_env=False, **options)


# ---- aiohttp (aiogram): a resolver and connector that refuse what is not public ------------------


class PublicOnlyResolver(AbstractResolver):
    """Resolves once and hands aiohttp only addresses it checked; aiohttp connects to those and keeps
    the name for the Host header and TLS."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in await public_addresses(host, port)
        ]

    async def close(self) -> None:
        return None


class PublicOnlyConnector(aiohttp.TCPConnector):
    """aiohttp skips the resolver for a URL whose host is an address: those are checked here, at each
    connection (redirects too). Names go through ``PublicOnlyResolver``."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**{**options, "resolver": PublicOnlyResolver()})

    async def connect(
        self,
        req: aiohttp.ClientRequest,
        traces: Any,
        timeout: aiohttp.ClientTimeout,  # noqa: ASYNC109 - aiohttp's signature
    ) -> Connection:
        host = (req.url.host or "").strip("[]")
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None  # a name: the resolver checks it
        if address is not None and not is_public(address):
            raise PrivateAddressError(host, address)
        return await super().connect(req, traces, timeout)
