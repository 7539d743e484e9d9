"""Over HTTP on a running ``atende demo``: TOTP two-factor authentication, set up with an authenticator
app's codes (computed here by pyotp from the secret the server returned), then asked for at login.

Each test works in a tenant of its own, so the wrong-code counts and the tenant's requirement are its own.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp
import pytest

from tests.conftest import LiveServer
from tests.helpers import login, make_admin_tenant


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=30)


def post_login(client: httpx.Client, credentials: tuple[str, str]) -> dict[str, Any]:
    response = client.post("/api/v1/auth/login", json={"email": credentials[0], "password": credentials[1]})
    assert response.status_code == 200, response.text
    return dict(response.json())


def code_after(totp: pyotp.TOTP, steps: int) -> str:
    """The app's code ``steps`` time-steps from now (the server takes one step of clock drift)."""
    return totp.at(time.time() + steps * totp.interval)


def wrong_code(totp: pyotp.TOTP) -> str:
    """A six-digit code that is none of the codes the server would take now."""
    near = {code_after(totp, step) for step in (-1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in near)


def enable_two_factor(client: httpx.Client, credentials: tuple[str, str]) -> tuple[pyotp.TOTP, list[str]]:
    """Set up and confirm 2FA as the person would; their app (a TOTP of the returned secret), and the
    recovery codes."""
    headers = login(client, credentials)
    setup = client.post("/api/v1/auth/2fa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    confirmed = client.post("/api/v1/auth/2fa/confirm", json={"code": totp.now()}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    return totp, confirmed.json()["recovery_codes"]


def verify(client: httpx.Client, ticket: str, code: str) -> httpx.Response:
    return client.post("/api/v1/auth/2fa/verify", json={"ticket": ticket, "code": code})


def test_enrolment_shows_a_qr_and_turns_on_only_with_the_apps_code(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    headers = login(client, tenant.agent)
    assert client.get("/api/v1/auth/2fa", headers=headers).json()["enabled"] is False

    setup = client.post("/api/v1/auth/2fa/setup", headers=headers)
    assert setup.status_code == 200, setup.text
    body = setup.json()
    assert body["otpauth_uri"].startswith("otpauth://totp/Atende:")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg")
    totp = pyotp.TOTP(body["secret"])

    # Pending until confirmed: the login still gives a token.
    assert "token" in post_login(client, tenant.agent)
    refused = client.post("/api/v1/auth/2fa/confirm", json={"code": wrong_code(totp)}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "code"

    confirmed = client.post("/api/v1/auth/2fa/confirm", json={"code": totp.now()}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    status = client.get("/api/v1/auth/2fa", headers=headers).json()
    assert status == {"enabled": True, "required": False, "recovery_codes_left": 10}


def test_login_then_needs_the_code_and_a_code_works_only_once(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    totp, _ = enable_two_factor(client, tenant.agent)

    first = post_login(client, tenant.agent)
    assert "token" not in first
    assert first["second_step"] == "verify"
    # The ticket is no access token.
    as_token = client.get("/api/v1/auth/2fa", headers={"Authorization": f"Bearer {first['ticket']}"})
    assert as_token.status_code == 401

    code = code_after(totp, 1)  # the code confirming the set-up used up this step's
    passed = verify(client, first["ticket"], code)
    assert passed.status_code == 200, passed.text
    token = passed.json()["token"]
    assert passed.json()["user"]["email"] == tenant.agent[0]
    assert client.get("/api/v1/auth/2fa", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    again = post_login(client, tenant.agent)
    replayed = verify(client, again["ticket"], code)
    assert replayed.status_code == 422
    assert "already used" in replayed.json()["detail"]
    assert "token" not in replayed.json()


def test_wrong_codes_are_refused_then_limited_with_retry_after(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    totp, _ = enable_two_factor(client, tenant.agent)
    ticket = post_login(client, tenant.agent)["ticket"]
    for _ in range(5):
        refused = verify(client, ticket, wrong_code(totp))
        assert refused.status_code == 422, refused.text

    limited = verify(client, ticket, code_after(totp, 1))
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "token" not in limited.json()
    # Another person's allowance is untouched.
    other_totp, _ = enable_two_factor(client, tenant.admin)
    other = verify(client, post_login(client, tenant.admin)["ticket"], code_after(other_totp, 1))
    assert other.status_code == 200, other.text


def test_a_recovery_code_works_once(client: httpx.Client, live_server: LiveServer) -> None:
    tenant = make_admin_tenant(live_server)
    _, codes = enable_two_factor(client, tenant.agent)

    used = verify(client, post_login(client, tenant.agent)["ticket"], codes[3].upper())
    assert used.status_code == 200, used.text
    headers = {"Authorization": f"Bearer {used.json()['token']}"}
    assert client.get("/api/v1/auth/2fa", headers=headers).json()["recovery_codes_left"] == 9

    reused = verify(client, post_login(client, tenant.agent)["ticket"], codes[3])
    assert reused.status_code == 422


def test_turning_it_off_needs_the_password_and_a_code(client: httpx.Client, live_server: LiveServer) -> None:
    tenant = make_admin_tenant(live_server)
    totp, codes = enable_two_factor(client, tenant.agent)
    ticket = post_login(client, tenant.agent)["ticket"]
    headers = {"Authorization": f"Bearer {verify(client, ticket, codes[0]).json()['token']}"}

    def turn_off(password: str, code: str) -> httpx.Response:
        return client.post(
            "/api/v1/auth/2fa/disable", json={"password": password, "code": code}, headers=headers
        )

    bad_password = turn_off("not-it-at-all", code_after(totp, 1))
    assert bad_password.status_code == 422
    assert bad_password.json()["errors"][0]["field"] == "password"
    older = turn_off(tenant.agent[1], code_after(totp, -1))  # the set-up used a later step's code
    assert older.status_code == 422
    assert older.json()["errors"][0]["field"] == "code"
    off = turn_off(tenant.agent[1], code_after(totp, 1))
    assert off.status_code == 200, off.text
    assert "token" in post_login(client, tenant.agent)


def test_a_tenant_that_requires_it_makes_its_people_enrol_at_login(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    admin = login(client, tenant.admin)
    agent_headers = login(client, tenant.agent)
    assert client.get("/api/v1/admin/security", headers=admin).json() == {"require_two_factor": False}
    forbidden = client.put("/api/v1/admin/security", json={"require_two_factor": True}, headers=agent_headers)
    assert forbidden.status_code == 403
    bad = client.put("/api/v1/admin/security", json={"require_two_factor": "yes"}, headers=admin)
    assert bad.status_code == 422
    assert "require_two_factor" in bad.text
    saved = client.put("/api/v1/admin/security", json={"require_two_factor": True}, headers=admin)
    assert saved.status_code == 200, saved.text
    assert client.get("/api/v1/admin/security", headers=admin).json() == {"require_two_factor": True}

    step = post_login(client, tenant.agent)
    assert "token" not in step
    assert step["second_step"] == "enrol"
    ticket = step["ticket"]
    # The enrolment ticket allows only enrolling: not the code step, not the API.
    assert verify(client, ticket, "123456").status_code == 401
    assert client.get("/api/v1/auth/2fa", headers={"Authorization": f"Bearer {ticket}"}).status_code == 401

    setup = client.post("/api/v1/auth/2fa/enrol/setup", json={"ticket": ticket})
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    confirmed = client.post("/api/v1/auth/2fa/enrol/confirm", json={"ticket": ticket, "code": totp.now()})
    assert confirmed.status_code == 200, confirmed.text
    assert len(confirmed.json()["recovery_codes"]) == 10
    headers = {"Authorization": f"Bearer {confirmed.json()['login']['token']}"}
    status = client.get("/api/v1/auth/2fa", headers=headers).json()
    assert status["enabled"] is True and status["required"] is True

    turned_off = client.post(
        "/api/v1/auth/2fa/disable",
        json={"password": tenant.agent[1], "code": code_after(totp, 1)},
        headers=headers,
    )
    assert turned_off.status_code == 409
    assert post_login(client, tenant.agent)["second_step"] == "verify"
