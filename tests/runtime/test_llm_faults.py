"""The model fails while a worker runs the turns: a 429 is retried and the customer gets the answer
once; a model that keeps answering 500, hangs past the LLM timeout, or streams what is not JSON hands
the customer to a human (a ticket, and the hand-off text), never silence."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from tests.conftest import start_atende, stop_atende
from tests.fakes.llm_servers import FakeDelay, FakeError, FakeGarbage, FakeOpenAI, Step
from tests.helpers import ChatCustomer
from tests.runtime.conftest import start_worker
from tests.waiting import stays_true

QUESTION = "Quanto tempo de garantia têm as plantas?"
HANDED_OFF = "Vou transferir você para um atendente humano."
ANSWER = "As plantas têm garantia de 15 dias a partir da entrega [1]."
LLM_TIMEOUT_SECONDS = 3
ATTEMPTS = 4
"""The SDK's first attempt and its 3 retries (``ProviderConfig.max_retries``)."""


def _wait(condition: Callable[[], object], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


class Shop:
    def __init__(self, url: str, data_dir: Path, llm: FakeOpenAI) -> None:
        self.url, self.llm = url, llm
        credentials = json.loads((data_dir / "demo-credentials.json").read_text())
        login = httpx.post(
            f"{url}/api/v1/auth/login",
            json={"email": "agent@demo.atende.dev", "password": credentials["agent@demo.atende.dev"]},
        )
        self.agent = {"Authorization": f"Bearer {login.json()['token']}"}

    def ask(self, *steps: Step) -> tuple[ChatCustomer, str, int]:
        """A new customer asks while the model answers ``steps``: the customer's session, their one
        reply, and how many calls the model got for it."""
        calls_before = len(self.llm.requests)
        self.llm.script(*steps)
        session = ChatCustomer.start(self.url)
        posted = session.send(QUESTION)
        assert posted.status_code == 202, posted.text
        _wait(lambda: self._replies(session), "the customer's reply")
        stays_true(lambda: len(self._replies(session)) == 1, "one reply, not two")
        [reply] = self._replies(session)
        assert self.llm.pending == 0, "the model was not asked as often as scripted"
        return session, reply, len(self.llm.requests) - calls_before

    def handed_off(self, session: ChatCustomer) -> bool:
        tickets = httpx.get(f"{self.url}/api/v1/tickets/", headers=self.agent, timeout=10).json()
        return any(ticket["contact"] == session.name for ticket in tickets)

    def _replies(self, session: ChatCustomer) -> list[str]:
        return [m["text"] for m in session.messages() if m["author"] != "customer"]


def test_a_failing_model_is_retried_then_hands_the_customer_to_a_human(
    tmp_path: Path, redis_url: str
) -> None:
    with FakeOpenAI(lambda body: ANSWER) as llm:
        env = {
            "ATENDE_REDIS_URL": redis_url,
            "ATENDE_LLM_PROVIDER": "openai-compatible",
            "ATENDE_LLM_BASE_URL": llm.base_url,
            "ATENDE_LLM_MODEL": "local-model",
            "ATENDE_LLM_TIMEOUT_SECONDS": str(LLM_TIMEOUT_SECONDS),
        }
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        web, url = start_atende(data_dir, "demo", env=env)
        worker = start_worker(data_dir, env, "worker.log")
        try:
            shop = Shop(url, data_dir, llm)

            session, reply, calls = shop.ask(FakeError(429))
            assert reply == "As plantas têm garantia de 15 dias a partir da entrega."
            assert calls == 2 and not shop.handed_off(session)

            session, reply, calls = shop.ask(*[FakeError(500)] * ATTEMPTS)
            assert calls == ATTEMPTS and shop.handed_off(session)
            assert reply.startswith(HANDED_OFF)

            # One deadline for the whole call: the hang is not tried again past it.
            session, reply, calls = shop.ask(FakeDelay(60))
            assert calls == 1 and shop.handed_off(session)
            assert reply.startswith(HANDED_OFF)

            session, reply, calls = shop.ask(FakeGarbage())
            assert calls == 1 and shop.handed_off(session)
            assert reply.startswith(HANDED_OFF)
        finally:
            stop_atende(worker)
            stop_atende(web)
