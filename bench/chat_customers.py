"""The web chat as a bench's customers use it: each gets a session the server issues (its id and
token) before their first message, and every later post carries that token."""

from __future__ import annotations

import asyncio

import httpx


class WebChatCustomers:
    """Customers of one tenant's web chat, by the bench's own key for each (``f"tp-{run}-{n}"``)."""

    def __init__(self, client: httpx.AsyncClient, tenant: str) -> None:
        self._client = client
        self._tenant = tenant
        self._sessions: dict[str, asyncio.Task[tuple[str, str]]] = {}

    async def _start(self, url: str) -> tuple[str, str]:
        issued = await self._client.post(f"{url}/api/v1/webchat/{self._tenant}/sessions")
        issued.raise_for_status()
        return issued.json()["session_id"], issued.json()["token"]

    async def post(self, url: str, customer: str, text: str) -> httpx.Response:
        """``customer`` writes ``text`` through the web process at ``url`` ("" for the client's base)."""
        if customer not in self._sessions:
            self._sessions[customer] = asyncio.ensure_future(self._start(url))
        session_id, token = await self._sessions[customer]
        return await self._client.post(
            f"{url}/api/v1/webchat/{self._tenant}/messages",
            json={"session_id": session_id, "text": text},
            headers={"Authorization": f"Bearer {token}"},
        )
