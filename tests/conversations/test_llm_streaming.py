"""With an LLM configured, the web chat sees the reply as the model writes it, then the cited message."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.conftest import start_atende, stop_atende
from tests.fakes.llm_servers import FakeOpenAI
from tests.helpers import ChatCustomer

QUESTION = "Quanto tempo de garantia têm as plantas?"
ANSWER = (
    "Todas as plantas vivas têm garantia de 15 dias a partir da entrega [1]. Regue e aguarde 48 horas [1]."
)


@pytest.fixture(scope="module")
def llm_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FakeOpenAI]]:
    with FakeOpenAI(lambda body: ANSWER) as llm:
        env = {
            "ATENDE_LLM_PROVIDER": "openai",
            "ATENDE_LLM_BASE_URL": llm.base_url,
            "ATENDE_LLM_MODEL": "gpt-4o-mini",
            "ATENDE_LLM_API_KEY": "sk-test-key",
        }
        data_dir: Path = tmp_path_factory.mktemp("llm-demo")
        process, url = start_atende(data_dir, "demo", env=env)
        try:
            yield url, llm
        finally:
            stop_atende(process)


async def _chat(url: str) -> list[dict[str, Any]]:
    """Post the question on the web chat and collect the session's events until the bot's message."""
    events: list[dict[str, Any]] = []
    customer = await ChatCustomer.astart(url)
    async with websockets.connect(customer.events_url) as socket:
        posted = await customer.asend(QUESTION, message_id=uuid.uuid4().hex)
        assert posted.status_code == 202, posted.text
        while True:
            event = json.loads(await asyncio.wait_for(socket.recv(), timeout=180))
            events.append(event)
            if event["type"] == "message.created" and event["message"]["author"] == "bot":
                return events


async def test_the_web_chat_sees_the_reply_streamed_then_stored_with_its_sources(
    llm_demo: tuple[str, FakeOpenAI],
) -> None:
    url, llm = llm_demo
    events = await _chat(url)
    deltas = [e["text"] for e in events if e["type"] == "reply.delta"]
    assert len(deltas) > 3, "the reply arrives in pieces"
    assert "".join(deltas) == ANSWER
    final = events[-1]["message"]
    assert (
        final["text"]
        == "Todas as plantas vivas têm garantia de 15 dias a partir da entrega. Regue e aguarde 48 horas."
    )
    assert final["citations"] and final["citations"][0]["document"].endswith(".md")
    assert llm.requests[-1].headers["authorization"] == "Bearer sk-test-key"
