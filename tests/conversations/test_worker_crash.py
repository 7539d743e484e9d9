"""A server killed in the middle of a turn: the next one resumes it, and the customer gets one reply."""

from __future__ import annotations

import dataclasses
import os
import signal
import time
import uuid
from pathlib import Path

from tests.conftest import start_atende, stop_atende
from tests.fakes.llm_servers import FakeDelay, FakeOpenAI
from tests.helpers import ChatCustomer
from tests.waiting import stays_true

QUESTION = "Quanto tempo de garantia têm as plantas?"
ANSWER = "As plantas têm garantia de 15 dias a partir da entrega [1]."


def _wait(condition: object, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_a_worker_killed_mid_turn_is_resumed_and_the_customer_gets_exactly_one_reply(
    tmp_path: Path,
) -> None:
    with FakeOpenAI(lambda body: ANSWER) as llm:
        # The first call hangs: the server is killed while the model is "writing".
        llm.script(FakeDelay(120))
        env = {
            "ATENDE_LLM_PROVIDER": "openai-compatible",
            "ATENDE_LLM_BASE_URL": llm.base_url,
            "ATENDE_LLM_MODEL": "local-model",
        }
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        process, url = start_atende(data_dir, "demo", env=env)
        customer = ChatCustomer.start(url)
        try:
            posted = customer.send(QUESTION, message_id=uuid.uuid4().hex)
            assert posted.status_code == 202, posted.text
            _wait(lambda: len(llm.requests) == 1, "the model call")
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

        process, url = start_atende(data_dir, "demo", env=env)
        try:
            # The same data dir, so the same secret key: the session's token still holds.
            restarted = dataclasses.replace(customer, url=url)

            def replies() -> list[dict[str, object]]:
                return [m for m in restarted.messages() if m["author"] != "customer"]

            _wait(lambda: len(replies()) >= 1, "the reply after restart")
            stays_true(lambda: len(replies()) == 1, "no second, duplicate reply")
            [reply] = replies()
            assert reply["text"] == "As plantas têm garantia de 15 dias a partir da entrega."
            assert reply["citations"]
            assert len(llm.requests) == 2
            assert "agent.resumed" in (data_dir / "server.log").read_text()
        finally:
            stop_atende(process)
