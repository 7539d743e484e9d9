"""Over HTTP: an admin puts an agent in the queue; the agent goes online and gets what was waiting."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

import httpx
import pytest
import websockets

from core.accounts import create_user, get_tenant
from core.database import open_database
from core.settings import Settings
from tests.conftest import LiveServer
from tests.helpers import AdminTenant, ChatCustomer, login, login_with_id, make_admin_tenant


@pytest.fixture(scope="module")
def client(live_server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=live_server.url, timeout=30)


def escalate(client: httpx.Client, tenant: AdminTenant) -> ChatCustomer:
    customer = ChatCustomer.start(client, tenant.slug)
    assert customer.send("quero falar com um atendente").status_code == 202
    return customer


def wait_for_ticket(client: httpx.Client, headers: dict[str, str], customer: ChatCustomer) -> dict[str, str]:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = [
            t for t in client.get("/api/v1/tickets", headers=headers).json() if t["contact"] == customer.name
        ]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("no ticket")


def test_an_agent_going_online_gets_the_ticket_that_waited_in_their_queue(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    admin, _ = login_with_id(client, tenant.admin)
    agent, agent_id = login_with_id(client, tenant.agent)
    [queue] = client.get("/api/v1/admin/queues", headers=admin).json()
    assert queue["is_default"] and queue["members"] == []
    saved = client.put(
        f"/api/v1/admin/queues/{queue['id']}",
        json={"name": queue["name"], "members": [agent_id], "routing": "least_busy", "max_open_per_agent": 3},
        headers=admin,
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["members"] == [agent_id]

    waiting = wait_for_ticket(client, agent, escalate(client, tenant))
    assert waiting["status"] == "pending", "nobody is online yet"

    online = client.put("/api/v1/me/presence", json={"presence": "online"}, headers=agent)
    assert online.status_code == 200, online.text
    assert online.json()["assigned"] == [waiting["id"]]
    ticket = client.get(f"/api/v1/tickets/{waiting['id']}", headers=agent).json()["ticket"]
    assert (ticket["status"], ticket["assignee_id"]) == ("open", agent_id)

    following = wait_for_ticket(client, agent, escalate(client, tenant))
    assert (following["status"], following["assignee_id"]) == ("open", agent_id), "online: assigned at once"


def test_queue_settings_are_for_admins_and_members_of_the_tenant(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant, other = make_admin_tenant(live_server), make_admin_tenant(live_server)
    admin, _ = login_with_id(client, tenant.admin)
    agent, _ = login_with_id(client, tenant.agent)
    _, outsider = login_with_id(client, other.agent)
    assert client.get("/api/v1/admin/queues", headers=agent).status_code == 403
    refused = client.post(
        "/api/v1/admin/queues", json={"name": "Vendas", "members": [outsider]}, headers=admin
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "members"
    bad = client.put("/api/v1/me/presence", json={"presence": "busy"}, headers=agent)
    assert bad.status_code == 400 or bad.status_code == 422
    assert [q["name"] for q in client.get("/api/v1/admin/queues", headers=admin).json()] == ["Atendimento"]


def test_a_note_and_a_transfer_show_in_the_history_and_never_reach_the_customer(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    admin, _ = login_with_id(client, tenant.admin)
    agent, _ = login_with_id(client, tenant.agent)
    _, admin_id = login_with_id(client, tenant.admin)
    client.put("/api/v1/me/presence", json={"presence": "online"}, headers=admin)
    billing = client.post(
        "/api/v1/admin/queues", json={"name": "Financeiro", "members": [admin_id]}, headers=admin
    )
    assert billing.status_code == 201, billing.text
    session = escalate(client, tenant)
    ticket = wait_for_ticket(client, agent, session)
    assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=agent).status_code == 200

    note = client.post(
        f"/api/v1/tickets/{ticket['id']}/notes", json={"text": "pediu 2ª via, cliente VIP"}, headers=agent
    )
    assert note.status_code == 201
    moved = client.post(
        f"/api/v1/tickets/{ticket['id']}/transfer",
        json={"queue_id": billing.json()["id"], "note": "boleto vencido"},
        headers=agent,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["assignee_id"] == admin_id, "the online member of the new queue has it"
    again = client.post(
        f"/api/v1/tickets/{ticket['id']}/transfer", json={"assignee_id": admin_id}, headers=agent
    )
    assert again.status_code == 404, "another queue's ticket now, out of this agent's sight"

    history = client.get(f"/api/v1/tickets/{ticket['id']}", headers=admin).json()["history"]
    kinds = [h["kind"] for h in history]
    assert kinds[:3] == ["created", "accepted", "note"] and "transferred" in kinds
    [transfer] = [h for h in history if h["kind"] == "transferred"]
    assert transfer["data"]["note"] == "boleto vencido" and transfer["actor"]
    customer_sees = session.messages()
    assert not any("VIP" in m["text"] or "vencido" in m["text"] for m in customer_sees)

    back = client.post(f"/api/v1/tickets/{ticket['id']}/return-to-bot", headers=admin)
    assert back.status_code == 200 and back.json()["status"] == "closed"


def test_quick_replies_are_filled_in_for_the_ticket_and_an_unknown_variable_is_never_sent(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    admin, _ = login_with_id(client, tenant.admin)
    agent, _ = login_with_id(client, tenant.agent)
    made = client.post(
        "/api/v1/quick-replies",
        json={"shortcut": "/protocolo", "text": "Seu protocolo é {{ticket.protocol}}."},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    refused = client.post(
        "/api/v1/quick-replies", json={"shortcut": "x", "text": "{{contact.cpf}}"}, headers=admin
    )
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "text"
    assert (
        client.post("/api/v1/quick-replies", json={"shortcut": "y", "text": "oi"}, headers=agent).status_code
        == 403
    )

    session = escalate(client, tenant)
    ticket = wait_for_ticket(client, agent, session)
    [suggested] = client.get(
        f"/api/v1/tickets/{ticket['id']}/quick-replies", params={"q": "/prot"}, headers=agent
    ).json()
    assert suggested["text"] == f"Seu protocolo é {ticket['protocol']}."

    bad = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"text": "Oi {{contact.cpf}}"}, headers=agent
    )
    assert bad.status_code == 422 and "unknown variable" in bad.json()["detail"]
    sent = client.post(
        f"/api/v1/tickets/{ticket['id']}/messages", json={"text": suggested["text"]}, headers=agent
    )
    assert sent.status_code == 201
    customer_sees = [m["text"] for m in session.messages()]
    assert suggested["text"] in customer_sees and not any("cpf" in text for text in customer_sees)


def add_person(live_server: LiveServer, slug: str, role: str) -> tuple[str, str]:
    credentials = (f"{role}-{uuid.uuid4().hex[:6]}@{slug}.test", "pass-1234-x")

    async def create() -> None:
        async with (
            open_database(Settings(data_dir=live_server.data_dir)) as database,
            database.sessionmaker.begin() as session,
        ):
            tenant = await get_tenant(session, slug)
            await create_user(session, tenant, credentials[0], credentials[1], role)

    asyncio.run(create())
    return credentials


def test_agents_see_their_queues_and_a_supervisor_sees_and_reassigns_all(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    admin, _ = login_with_id(client, tenant.admin)
    agent, agent_id = login_with_id(client, tenant.agent)
    billing_agent, billing_id = login_with_id(client, add_person(live_server, tenant.slug, "agent"))
    supervisor, _ = login_with_id(client, add_person(live_server, tenant.slug, "supervisor"))
    [default] = client.get("/api/v1/admin/queues", headers=admin).json()
    client.put(
        f"/api/v1/admin/queues/{default['id']}",
        json={"name": default["name"], "members": [agent_id]},
        headers=admin,
    )
    billing = client.post(
        "/api/v1/admin/queues", json={"name": "Financeiro", "members": [billing_id]}, headers=admin
    ).json()
    ticket = wait_for_ticket(client, admin, escalate(client, tenant))
    moved = client.post(
        f"/api/v1/tickets/{ticket['id']}/transfer", json={"queue_id": billing["id"]}, headers=admin
    )
    assert moved.status_code == 200, moved.text

    def listed(headers: dict[str, str]) -> list[str]:
        return [t["id"] for t in client.get("/api/v1/tickets", headers=headers).json()]

    assert ticket["id"] not in listed(agent), "not this agent's queue"
    assert client.get(f"/api/v1/tickets/{ticket['id']}", headers=agent).status_code == 404
    hidden = f"/api/v1/tickets/{ticket['id']}"
    for action, body in (
        ("accept", None),
        ("messages", {"text": "posso ajudar?"}),
        ("notes", {"text": "peguei"}),
        ("close", None),
        ("transfer", {"assignee_id": agent_id}),
    ):
        acted = client.post(f"{hidden}/{action}", json=body, headers=agent)
        assert acted.status_code == 404, f"{action} on another queue's ticket: {acted.text}"
    assert client.put(f"{hidden}/tags", json={"tag_ids": []}, headers=agent).status_code == 404
    unchanged = client.get(hidden, headers=billing_agent).json()
    assert unchanged["ticket"]["status"] == "pending" and not unchanged["ticket"]["assignee_id"]
    assert [h["kind"] for h in unchanged["history"]] == ["created", "transferred"]
    assert ticket["id"] in listed(billing_agent) and ticket["id"] in listed(supervisor)

    overview = {q["name"]: q for q in client.get("/api/v1/supervisor/queues", headers=supervisor).json()}
    assert overview["Financeiro"]["pending"] == 1 and overview["Financeiro"]["longest_wait_seconds"] > 0
    assert client.get("/api/v1/supervisor/queues", headers=agent).status_code == 403

    reassigned = client.post(
        f"/api/v1/tickets/{ticket['id']}/transfer", json={"assignee_id": agent_id}, headers=supervisor
    )
    assert reassigned.status_code == 200 and reassigned.json()["assignee_id"] == agent_id
    assert ticket["id"] in listed(agent), "assigned to them now"


def set_reopen_window(live_server: LiveServer, slug: str, hours: int) -> None:
    async def save() -> None:
        async with (
            open_database(Settings(data_dir=live_server.data_dir)) as database,
            database.sessionmaker.begin() as session,
        ):
            (await get_tenant(session, slug)).reopen_window_hours = hours

    asyncio.run(save())


@pytest.mark.parametrize("handled_an_earlier_ticket", [False, True])
def test_an_agents_inbox_socket_hears_only_conversations_of_tickets_they_may_see(
    client: httpx.Client, live_server: LiveServer, handled_an_earlier_ticket: bool
) -> None:
    """With ``handled_an_earlier_ticket``, the agent took and closed this customer's first ticket:
    the second one, in another queue, is still none of their business."""
    tenant = make_admin_tenant(live_server)
    admin, _ = login_with_id(client, tenant.admin)
    _, agent_id = login_with_id(client, tenant.agent)
    billing_credentials = add_person(live_server, tenant.slug, "agent")
    _, billing_id = login_with_id(client, billing_credentials)
    agent_token = login_token(client, tenant.agent)
    billing_token = login_token(client, billing_credentials)
    [default] = client.get("/api/v1/admin/queues", headers=admin).json()
    client.put(
        f"/api/v1/admin/queues/{default['id']}",
        json={"name": default["name"], "members": [agent_id]},
        headers=admin,
    )
    billing = client.post(
        "/api/v1/admin/queues", json={"name": "Financeiro", "members": [billing_id]}, headers=admin
    ).json()
    session = escalate(client, tenant)
    ticket = wait_for_ticket(client, admin, session)
    if handled_an_earlier_ticket:
        set_reopen_window(live_server, tenant.slug, 0)  # the next hand-off is a new ticket
        agent = login(client, tenant.agent)
        assert client.post(f"/api/v1/tickets/{ticket['id']}/accept", headers=agent).status_code == 200
        assert client.post(f"/api/v1/tickets/{ticket['id']}/close", headers=agent).status_code == 200
        first = ticket["id"]
        session.send("quero falar com um atendente de novo")
        deadline = time.monotonic() + 60
        while ticket["id"] == first:
            assert time.monotonic() < deadline, "no second ticket"
            time.sleep(0.2)
            ticket = wait_for_ticket(client, admin, session)
    client.post(f"/api/v1/tickets/{ticket['id']}/transfer", json={"queue_id": billing["id"]}, headers=admin)
    base = live_server.url.replace("http://", "ws://") + "/api/v1/inbox/events?token="

    async def hear(token: str, seconds: float, connected: asyncio.Event) -> list[dict[str, object]]:
        heard: list[dict[str, object]] = []
        async with websockets.connect(base + token) as socket_:
            connected.set()  # the server subscribes before it accepts the socket
            deadline = time.monotonic() + seconds
            while (left := deadline - time.monotonic()) > 0:
                try:
                    heard.append(json.loads(await asyncio.wait_for(socket_.recv(), timeout=left)))
                except TimeoutError:
                    break
        return heard

    async def scenario() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
        connected = asyncio.Event(), asyncio.Event()
        listening = asyncio.gather(hear(agent_token, 6, connected[0]), hear(billing_token, 6, connected[1]))
        await asyncio.gather(*(event.wait() for event in connected))
        posted = await session.asend("meu cartão foi clonado, número 5555")
        assert posted.status_code == 202
        return await listening

    other_queue, own_queue = asyncio.run(scenario())
    said = "meu cartão foi clonado, número 5555"
    assert any(
        e.get("type") == "message.created" and said in json.dumps(e, ensure_ascii=False) for e in own_queue
    )
    assert not any(said in json.dumps(e, ensure_ascii=False) for e in other_queue), (
        "another queue's message reached an agent"
    )


def test_only_agents_supervisors_and_admins_open_an_inbox_socket(
    client: httpx.Client, live_server: LiveServer
) -> None:
    tenant = make_admin_tenant(live_server)
    token = login_token(client, add_person(live_server, tenant.slug, "knowledge_manager"))
    url = live_server.url.replace("http://", "ws://") + f"/api/v1/inbox/events?token={token}"

    async def connect() -> None:
        async with websockets.connect(url) as socket_:
            await asyncio.wait_for(socket_.recv(), timeout=10)

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(connect())
    assert refused.value.response.status_code == 403, "a knowledge manager has no inbox"


def login_token(client: httpx.Client, credentials: tuple[str, str]) -> str:
    headers, _ = login_with_id(client, credentials)
    return headers["Authorization"].removeprefix("Bearer ")
