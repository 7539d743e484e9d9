"""Grounded generation: an LLM answers from numbered passages, cites them, or says it cannot."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from agents.guardrails import fence, leaks_prompt
from agents.llm import ChatMessage, LLMProvider, Usage
from agents.prompts import NO_ANSWER, passages_block, system_prompt
from knowledge.passages import Passage

_CITATION = re.compile(r"\s*\[(\d+)\]")
Delta = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class Generated:
    answerable: bool
    """False when the model signalled that the passages do not answer (or its reply was blocked)."""
    text: str
    cited: list[Passage]
    usage: Usage
    blocked: bool = False
    """The reply would have revealed the instructions: the customer never sees it."""


def _alternating(transcript: list[ChatMessage], last: ChatMessage) -> list[ChatMessage]:
    """Providers want user/assistant turns alternating and starting with the user: merge runs."""
    merged: list[ChatMessage] = []
    for message in [*transcript, last]:
        content = message.content if message is last else fence(message.content)
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(role=message.role, content=f"{merged[-1].content}\n\n{content}")
        elif merged or message.role == "user":
            merged.append(ChatMessage(role=message.role, content=content))
    return merged


class _StreamGate:
    """Forwards deltas, holding back what may still turn out to be the NO_ANSWER signal or a leak."""

    def __init__(self, on_delta: Delta | None, canary: str, prompt: str) -> None:
        self.on_delta = on_delta
        self.canary = canary
        self.prompt_openings = [line.strip()[:30] for line in prompt.splitlines() if len(line.strip()) > 40]
        self.text = ""
        self.sent = 0
        self.stopped = False

    async def push(self, delta: str) -> None:
        self.text += delta
        if self.on_delta is None or self.stopped:
            return
        if NO_ANSWER.startswith(self.text.strip()) or self.text.strip().startswith(NO_ANSWER):
            return
        if self.canary[:4] in self.text or any(o in self.text for o in self.prompt_openings):
            self.stopped = True
            return
        await self.on_delta(self.text[self.sent :])
        self.sent = len(self.text)


async def generate_grounded(
    llm: LLMProvider,
    *,
    company: str,
    language: str,
    question: str,
    transcript: list[ChatMessage],
    passages: list[Passage],
    canary: str,
    on_delta: Delta | None = None,
) -> Generated:
    """Stream the model's answer to ``on_delta``; the final text has its [n] markers turned into citations."""
    prompt = system_prompt(company, language, canary)
    last = ChatMessage(
        role="user",
        content=f"{passages_block(passages)}\n\nCustomer's message:\n<message>{fence(question)}</message>",
    )
    gate = _StreamGate(on_delta, canary, prompt)
    usage: Usage | None = None
    async for item in llm.stream(prompt, _alternating(transcript, last), max_tokens=400):
        if isinstance(item, Usage):
            usage = item
        else:
            await gate.push(item)
    assert usage is not None, "a provider stream ends with its usage"
    text = gate.text.strip()
    if leaks_prompt(text, canary, prompt):
        return Generated(False, "", [], usage, blocked=True)
    if not text or text.startswith(NO_ANSWER):
        return Generated(False, "", [], usage)
    numbers = [int(n) for n in _CITATION.findall(text)]
    cited = [passages[n - 1] for n in dict.fromkeys(numbers) if 1 <= n <= len(passages)]
    clean = re.sub(r"\s+([.,;:!?])", r"\1", _CITATION.sub("", text)).strip()
    # An answer with no marker still came from these passages only: credit the best one.
    return Generated(True, clean, cited or passages[:1], usage)
