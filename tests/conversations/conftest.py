"""The gated LLM's fixtures (tests/conversations/gated_llm.py), for the turns that must wait on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conversations.gated_llm import Gate
from tests.fakes.llm_servers import FakeOpenAI


@pytest.fixture
def gate() -> Iterator[Gate]:
    """Opened at the end whatever happened, so no LLM call is left waiting."""
    gate = Gate()
    yield gate
    gate.opened.set()


@pytest.fixture
def llm(gate: Gate) -> Iterator[FakeOpenAI]:
    """A loopback OpenAI server whose every answer waits on ``gate``."""
    with FakeOpenAI(gate.responder) as server:
        yield server
