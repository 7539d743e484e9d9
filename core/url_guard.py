"""Where tenants' webhooks may POST: the public internet only, unless the operator allows private
networks (``ATENDE_WEBHOOK_PRIVATE_NETWORKS=1``, for a self-hosted Atende calling its own services).

A tenant admin must not turn the server into a probe of the network it runs in (loopback, the
private ranges, link-local cloud metadata at 169.254.169.254). The check runs when a subscription is
made and again before every POST, as a name can later resolve elsewhere. (A name that answers a
public address to the check and a private one to the connection right after is not caught.)
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from core.errors import InvalidInputError

NAT64 = ipaddress.ip_network("64:ff9b::/96")
"""Counted global by Python, yet it reaches IPv4 addresses, private ones included, through a gateway."""


async def check_webhook_target(url: str, *, allow_private: bool) -> None:
    """InvalidInputError on ``url`` when its host is, or resolves to, an address that is not public."""
    if allow_private:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise InvalidInputError("url", f"the host {host!r} does not resolve") from exc
    for *_, address in found:
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global or ip in NAT64:
            raise InvalidInputError(
                "url", f"{host} is a private or local address ({ip}): webhooks go to the internet"
            )
