"""A tenant's webhook cannot make the server POST into the network it runs in."""

from __future__ import annotations

import pytest

from core.errors import InvalidInputError
from core.url_guard import check_webhook_target


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/api/v1/admin",
        "http://localhost/hook",
        "http://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "http://172.16.0.1:9200/_search",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:6379/",
        "http://0.0.0.0/",
    ],
)
async def test_local_and_private_addresses_are_refused_naming_the_url(url: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        await check_webhook_target(url, allow_private=False)
    assert refused.value.field == "url" and "private or local" in refused.value.reason
    await check_webhook_target(url, allow_private=True)  # the operator allowed private networks


async def test_a_public_address_is_allowed_and_a_name_that_does_not_resolve_is_refused() -> None:
    await check_webhook_target("https://93.184.216.34/hooks/atende", allow_private=False)
    with pytest.raises(InvalidInputError) as refused:
        await check_webhook_target("https://no-such-host.invalid/hook", allow_private=False)
    assert "does not resolve" in refused.value.reason
