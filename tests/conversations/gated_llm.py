"""An LLM that answers only when the test says so, and what a turn says on the chat pages.

The real OpenAI SDK talks to a loopback server whose answers a ``Gate`` holds back: a test sees a turn
waiting on the LLM, does something meanwhile (a person takes the conversation, the phone answers),
then opens the gate. The ``gate`` and ``llm`` fixtures (tests/conversations/conftest.py) set it up.
"""

from __future__ import annotations

import threading
from typing import Any

from agents.tenant_settings import save_llm_settings
from conversations.services import Services
from core.accounts import Tenant
from tests.conftest import MakeTenant
from tests.fakes.llm_servers import FakeOpenAI

ANSWER = "Entre no aplicativo e toque em Financeiro e depois em Segunda via [1]."
"""What the gated LLM answers, once the gate opens."""


class Gate:
    """Holds every LLM answer until opened; counts the calls waiting at once."""

    def __init__(self) -> None:
        self.opened = threading.Event()
        self._lock = threading.Condition()
        self.waiting = 0
        self.most_waiting = 0

    def responder(self, body: dict[str, Any]) -> str:
        with self._lock:
            self.waiting += 1
            self.most_waiting = max(self.most_waiting, self.waiting)
            self._lock.notify_all()
        try:
            assert self.opened.wait(60), "the test never opened the gate"
            return ANSWER
        finally:
            with self._lock:
                self.waiting -= 1

    def wait_for_waiting(self, count: int, timeout: float = 60.0) -> None:
        with self._lock:
            if not self._lock.wait_for(lambda: self.waiting >= count, timeout):
                raise TimeoutError(f"{self.waiting} of {count} LLM calls arrived")


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    async def publish(self, stream: str, event: dict[str, Any]) -> None:
        self.events.append((stream, event))

    def said_to_customers(self) -> list[dict[str, Any]]:
        """Messages and pieces of replies on the chat pages (typing dots are not words)."""
        return [
            event
            for stream, event in self.events
            if stream.startswith("webchat:") and event["type"] in {"message.created", "reply.delta"}
        ]


async def tenant_with_llm(services: Services, make_tenant: MakeTenant, llm: FakeOpenAI) -> Tenant:
    """A new tenant whose primary LLM is ``llm``."""
    tenant = await make_tenant()
    primary = {"provider": "openai", "model": "gpt-4o-mini", "base_url": llm.base_url, "api_key": "sk-test"}
    async with services.database.sessionmaker.begin() as session:
        await save_llm_settings(
            session, tenant.id, {"primary": primary}, services.settings.resolved_secret_key()
        )
    return tenant
