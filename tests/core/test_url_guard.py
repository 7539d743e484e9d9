"""A tenant cannot make the server send requests into the network it runs in: not when an address is
saved, not at the connection, not through a name that answers differently the second time."""

from __future__ import annotations

import socket
from typing import Any

import httpcore
import httpx
import pytest

from core.errors import InvalidInputError
from core.settings import Settings
from core.url_guard import PrivateAddressError, check_url, check_webhook_target, outbound_client
from tests.fakes.graph_api import FakeGraphAPI

NOT_PUBLIC = [
    "http://127.0.0.1:8000/api/v1/admin",
    "http://localhost/hook",
    "http://10.0.0.5/hook",
    "https://192.168.1.1/hook",
    "http://172.16.0.1:9200/_search",
    "http://169.254.169.254/latest/meta-data/",
    "http://100.64.0.1/",  # carrier-grade NAT
    "http://[::1]:6379/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",  # multicast
    "http://240.0.0.1/",  # reserved
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[ff02::1]/",
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 to 127.0.0.1
    "http://[64:ff9b:1::a00:5]/",  # local-use NAT64
    "http://[2002:7f00:1::]/",  # 6to4 around 127.0.0.1
    "http://2130706433/",  # 127.0.0.1 as one number
]


@pytest.mark.parametrize("url", NOT_PUBLIC)
async def test_local_and_private_addresses_are_refused_naming_the_field(url: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await check_webhook_target(url, allow_private=False)
    assert refused.value.field == "url" and "private or local" in refused.value.reason
    with pytest.raises(InvalidInputError) as refused:
        await check_url(url, field="api_base", allow_private=False)
    assert refused.value.field == "api_base" and "ATENDE_ALLOW_PRIVATE_NETWORKS" in refused.value.reason
    await check_webhook_target(url, allow_private=True)  # the operator allowed private networks


async def test_a_public_address_is_allowed_and_a_name_that_does_not_resolve_is_refused() -> None:
    await check_webhook_target("https://93.184.216.34/hooks/atende", allow_private=False)
    await check_url("https://[2606:2800:220:1:248:1893:25c8:1946]/", field="api_base", allow_private=False)
    with pytest.raises(InvalidInputError) as refused:
        await check_webhook_target("https://no-such-host.invalid/hook", allow_private=False)
    assert "does not resolve" in refused.value.reason
    with pytest.raises(InvalidInputError) as refused:
        await check_url("file:///etc/passwd", field="api_base", allow_private=True)
    assert refused.value.field == "api_base"


def test_the_old_variable_name_still_allows_private_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATENDE_ALLOW_PRIVATE_NETWORKS", raising=False)
    monkeypatch.delenv("ATENDE_WEBHOOK_PRIVATE_NETWORKS", raising=False)
    assert not Settings().allow_private_networks  # refused by default
    monkeypatch.setenv("ATENDE_WEBHOOK_PRIVATE_NETWORKS", "1")
    assert Settings().allow_private_networks
    monkeypatch.setenv("ATENDE_ALLOW_PRIVATE_NETWORKS", "0")
    assert not Settings().allow_private_networks  # the new name wins


async def test_the_client_refuses_to_connect_to_a_private_address_and_sends_nothing() -> None:
    with FakeGraphAPI() as internal:
        async with outbound_client(allow_private=False) as client:
            for url in (f"{internal.base_url}/v21.0/1", f"http://localhost:{internal.port}/v21.0/1"):
                with pytest.raises(PrivateAddressError, match="private or local address"):
                    await client.get(url, headers={"Authorization": "Bearer secret-token"})
        async with outbound_client(allow_private=True) as client:  # allowed: the same call arrives
            assert (await client.get(f"{internal.base_url}/v21.0/1")).status_code == 401
        assert len(internal.requests) == 1 and "authorization" not in internal.requests[0].headers


async def test_a_name_that_rebinds_to_loopback_is_connected_to_at_the_address_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The name answers a public address first and 127.0.0.1 after: a guard that checked, then let the
    connection resolve again, would reach the internal server."""
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["93.184.216.34"])

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.test":
            return real_getaddrinfo(next(answers, "127.0.0.1"), port, *args, **kwargs)
        return real_getaddrinfo(host, port, *args, **kwargs)

    connected: list[str] = []
    connect_tcp = httpcore.AnyIOBackend.connect_tcp

    async def recording(self: httpcore.AnyIOBackend, host: str, port: int, *args: Any) -> Any:
        connected.append(host)
        if host == "93.184.216.34":  # no route to the internet here: the address, refused at once
            raise httpcore.ConnectError("unreachable from the test machine")
        return await connect_tcp(self, host, port, *args)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", recording)
    with FakeGraphAPI() as internal:
        async with outbound_client(allow_private=False) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"http://rebind.test:{internal.port}/v21.0/1")
            with pytest.raises(PrivateAddressError, match=r"rebind\.test is a private or local address"):
                await client.get(f"http://rebind.test:{internal.port}/v21.0/1")  # now it says loopback
    assert connected == ["93.184.216.34"]
    assert internal.requests == []
