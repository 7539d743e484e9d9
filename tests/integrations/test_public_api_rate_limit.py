"""The public API's limit counts per API key: one busy integration cannot starve another."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.testing import TestClient

from web.public_api import ADDRESS_ALLOWANCE, rate_limits


@get("/api/v1/public/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"ok": "yes"}


def test_each_key_gets_its_own_allowance_and_the_429_says_when_to_retry() -> None:
    app = Litestar([ping], middleware=rate_limits(3))
    with TestClient(app) as client:
        first = {"Authorization": "Bearer atd_first_integration"}
        for _ in range(3):
            assert client.get("/api/v1/public/ping", headers=first).status_code == 200
        refused = client.get("/api/v1/public/ping", headers=first)
        assert refused.status_code == 429
        assert int(refused.headers["RateLimit-Reset"]) > 0 and refused.headers["RateLimit-Remaining"] == "0"
        same_key_other_header = client.get(
            "/api/v1/public/ping", headers={"X-API-Key": "atd_first_integration"}
        )
        assert same_key_other_header.status_code == 429, "the key is counted, however it is sent"
        second = client.get("/api/v1/public/ping", headers={"X-API-Key": "atd_second_integration"})
        assert second.status_code == 200 and second.headers["RateLimit-Remaining"] == "2"
        assert client.get("/api/v1/public/ping").status_code == 200, "no key: counted by address"


def test_made_up_keys_from_one_address_hit_the_address_limit() -> None:
    app = Litestar([ping], middleware=rate_limits(2))
    with TestClient(app) as client:
        answers = [
            client.get("/api/v1/public/ping", headers={"X-API-Key": f"atd_made_up_{n}"}).status_code
            for n in range(2 * ADDRESS_ALLOWANCE + 1)
        ]
    assert answers.count(200) == 2 * ADDRESS_ALLOWANCE and answers[-1] == 429
