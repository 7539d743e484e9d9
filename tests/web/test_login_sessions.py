"""Logging in and staying logged in, against the real server (``atende demo``): failed logins are
limited per account and per address, unknown e-mails cost a password check like known ones, hashing
does not stall the server, and logout, a new password and deactivation end a person's sessions, their
refresh tokens and their open inbox socket.

Each test makes its own tenant (logout ends every session of a person), and its failed logins come
from addresses of its own (X-Forwarded-For, which uvicorn trusts from 127.0.0.1).
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.conftest import LiveServer
from tests.helpers import AdminTenant, make_admin_tenant, metric

LOGIN = "/api/v1/auth/login"


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=120)


@pytest.fixture
def tenant(live_server: LiveServer) -> AdminTenant:
    return make_admin_tenant(live_server)


def an_address() -> dict[str, str]:
    """A client address of the test's own, as a reverse proxy on this machine would name it."""
    number = uuid.uuid4().int
    return {"X-Forwarded-For": f"10.{number % 250}.{number // 250 % 250}.{number // 62500 % 250 + 1}"}


def log_in(client: httpx.Client, credentials: tuple[str, str], **headers: str) -> httpx.Response:
    return client.post(LOGIN, json={"email": credentials[0], "password": credentials[1]}, headers=headers)


def signed_in(client: httpx.Client, credentials: tuple[str, str]) -> dict[str, Any]:
    response = log_in(client, credentials, **an_address())
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}"}


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def works(client: httpx.Client, session: dict[str, Any]) -> bool:
    status = client.get("/api/v1/tickets", headers=bearer(session)).status_code
    assert status in (200, 401), status
    return status == 200


def test_thirty_wrong_passwords_then_the_right_one_is_refused_for_a_while(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    address = an_address()
    email = tenant.agent[0]
    answers = [log_in(client, (email, f"guess-{n}"), **address).status_code for n in range(30)]
    assert answers == [401] * 5 + [429] * 25, "five tries per account, then refused before any check"

    right = log_in(client, tenant.agent, **address)
    assert right.status_code == 429
    assert 0 < int(right.headers["Retry-After"]) <= 300
    assert "too many failed logins" in right.json()["detail"]
    assert log_in(client, tenant.agent, **an_address()).status_code == 429, "the account, from anywhere"

    assert log_in(client, tenant.admin, **address).status_code == 200, "another account, same address"


def test_twenty_failures_from_one_address_close_it_to_every_account(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    address = an_address()
    for n in range(20):  # twenty different accounts, none over its own allowance
        assert log_in(client, (f"nobody-{n}@{tenant.slug}.test", "guess"), **address).status_code == 401
    refused = log_in(client, tenant.agent, **address)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "address" in refused.json()["detail"]
    assert log_in(client, tenant.agent, **an_address()).status_code == 200


def test_an_unknown_email_is_refused_after_a_real_password_check_like_a_known_one(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    def checks() -> float:
        return metric(client.get("/metrics").text, "atende_password_checks_total", outcome="mismatch") or 0

    before = checks()
    unknown = log_in(client, (f"nobody@{tenant.slug}.test", "guess-1"), **an_address())
    after_unknown = checks()
    known = log_in(client, (tenant.agent[0], "guess-1"), **an_address())
    after_known = checks()

    assert (unknown.status_code, unknown.json()["detail"]) == (known.status_code, known.json()["detail"])
    assert unknown.status_code == 401
    assert after_unknown - before == 1, "the unknown e-mail's password was checked against a hash"
    assert after_known - after_unknown == 1


def test_the_server_answers_while_logins_are_hashing(live_server: LiveServer, tenant: AdminTenant) -> None:
    """Twenty logins at once: while their password checks run, /healthz and /metrics are answered, and
    at most two checks run at a time."""

    async def scenario() -> tuple[list[float], list[int]]:
        async with httpx.AsyncClient(base_url=live_server.url, timeout=300) as client:
            people = [tenant.agent, tenant.admin] * 5 + [
                (f"x{n}@{tenant.slug}.test", "guess") for n in range(10)
            ]
            logins = [
                asyncio.create_task(
                    client.post(LOGIN, json={"email": e, "password": p}, headers=an_address())
                )
                for e, p in people
            ]
            running_seen: list[float] = []
            while not all(task.done() for task in logins):
                assert (await client.get("/healthz")).status_code == 200
                scrape = (await client.get("/metrics")).text
                running = metric(scrape, "atende_password_hashing_running") or 0
                if not all(task.done() for task in logins):  # still in flight when the scrape came back
                    running_seen.append(running)
            return running_seen, [task.result().status_code for task in logins]

    running_seen, statuses = asyncio.run(scenario())
    assert sorted(statuses) == [200] * 10 + [401] * 10
    assert any(running > 0 for running in running_seen), "answered while a password check was running"
    assert max(running_seen) <= 2


def test_a_new_password_ends_the_old_tokens(client: httpx.Client, tenant: AdminTenant) -> None:
    old = signed_in(client, tenant.agent)
    other_device = signed_in(client, tenant.agent)
    wrong = client.post(
        "/api/v1/auth/password",
        json={"current_password": "not-it", "new_password": "new-pass-123"},
        headers=bearer(old),
    )
    assert wrong.status_code == 422 and "current_password" in wrong.text
    short = client.post(
        "/api/v1/auth/password",
        json={"current_password": tenant.agent[1], "new_password": "short"},
        headers=bearer(old),
    )
    assert short.status_code == 422 and "new_password" in short.text
    assert works(client, old)

    changed = client.post(
        "/api/v1/auth/password",
        json={"current_password": tenant.agent[1], "new_password": "new-pass-123"},
        headers=bearer(old),
    )
    assert changed.status_code == 200, changed.text
    assert not works(client, old) and not works(client, other_device)
    assert refresh(client, other_device["refresh_token"]).status_code == 401
    assert works(client, changed.json()), "the page that changed it goes on with the tokens it got"
    assert log_in(client, tenant.agent, **an_address()).status_code == 401
    assert log_in(client, (tenant.agent[0], "new-pass-123"), **an_address()).status_code == 200


def test_logout_ends_the_access_and_refresh_tokens(client: httpx.Client, tenant: AdminTenant) -> None:
    session = signed_in(client, tenant.agent)
    assert works(client, session)
    assert client.post("/api/v1/auth/logout", headers=bearer(session)).status_code == 204
    assert not works(client, session)
    assert refresh(client, session["refresh_token"]).status_code == 401
    assert client.post("/api/v1/auth/logout", headers=bearer(session)).status_code == 401


def test_a_refresh_token_works_once_and_its_reuse_ends_the_login(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    first = signed_in(client, tenant.agent)
    assert first["expires_in"] <= 15 * 60
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    assert works(client, second.json())
    third = refresh(client, second.json()["refresh_token"]).json()

    assert refresh(client, first["refresh_token"]).status_code == 401, "used already: a copy"
    assert refresh(client, third["refresh_token"]).status_code == 401, "the whole login is revoked"
    other_login = signed_in(client, tenant.agent)
    assert refresh(client, other_login["refresh_token"]).status_code == 200, "another login is not"
    assert refresh(client, "made-up").status_code == 401


async def _closed_with(socket: Any) -> int | None:
    try:
        while True:
            await asyncio.wait_for(socket.recv(), timeout=30)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def _refused_code(url: str) -> int | None:
    async with websockets.connect(url) as socket:
        return await _closed_with(socket)


def test_an_open_inbox_socket_closes_when_the_session_ends(
    client: httpx.Client, live_server: LiveServer, tenant: AdminTenant
) -> None:
    base = live_server.url.replace("http://", "ws://") + "/api/v1/inbox/events?token="
    agent = signed_in(client, tenant.agent)
    admin = signed_in(client, tenant.admin)
    agent_id = agent["user"]["id"]

    async def logout_closes() -> tuple[int | None, int | None]:
        async with websockets.connect(base + agent["token"]) as socket:
            logout = await asyncio.to_thread(client.post, "/api/v1/auth/logout", headers=bearer(agent))
            assert logout.status_code == 204
            closed = await _closed_with(socket)
        return closed, await _refused_code(base + agent["token"])

    assert asyncio.run(logout_closes()) == (4401, 4401), "closed, and the old token cannot reconnect"

    again = signed_in(client, tenant.agent)

    async def deactivation_closes() -> int | None:
        async with websockets.connect(base + again["token"]) as socket:
            changed = await asyncio.to_thread(
                client.patch, f"/api/v1/admin/users/{agent_id}", json={"active": False}, headers=bearer(admin)
            )
            assert changed.status_code == 200 and changed.json()["active"] is False
            return await _closed_with(socket)

    assert asyncio.run(deactivation_closes()) == 4401
    assert not works(client, again)
    assert refresh(client, again["refresh_token"]).status_code == 401
    assert log_in(client, tenant.agent, **an_address()).status_code == 403
    assert asyncio.run(_refused_code(base + "not-a-token")) == 4401


def test_admins_list_people_and_deactivate_others_not_themselves(
    client: httpx.Client, tenant: AdminTenant
) -> None:
    admin = signed_in(client, tenant.admin)
    people = client.get("/api/v1/admin/users", headers=bearer(admin)).json()
    assert sorted((p["email"], p["active"]) for p in people) == sorted(
        [(tenant.admin[0], True), (tenant.agent[0], True)]
    )
    me = admin["user"]["id"]
    refused = client.patch(f"/api/v1/admin/users/{me}", json={"active": False}, headers=bearer(admin))
    assert refused.status_code == 422 and "active" in refused.text
    assert (
        client.patch(
            f"/api/v1/admin/users/{uuid.uuid4()}", json={"active": False}, headers=bearer(admin)
        ).status_code
        == 404
    )
    agent = signed_in(client, tenant.agent)
    agent_id = agent["user"]["id"]
    assert (
        client.patch(
            f"/api/v1/admin/users/{agent_id}", json={"active": False}, headers=bearer(agent)
        ).status_code
        == 403
    )
    assert (
        client.patch(
            f"/api/v1/admin/users/{agent_id}", json={"active": False}, headers=bearer(admin)
        ).status_code
        == 200
    )
    assert (
        client.patch(
            f"/api/v1/admin/users/{agent_id}", json={"active": True}, headers=bearer(admin)
        ).status_code
        == 200
    )
    assert log_in(client, tenant.agent, **an_address()).status_code == 200
