"""One log line, one trace span and one timing per LLM call: who answered, how many tokens, what it
cost, how long it took (the span: ``agents.llm.genai_span``; the timing:
``core.metrics.LLM_CALL_SECONDS``); and the call's one deadline.

Prompts, replies and keys are never logged nor traced: they carry customer data and secrets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, TypeVar

import structlog

from agents.llm.base import LLMError, Usage
from agents.llm.genai_span import end_chat_span, fail_chat_span, start_chat_span
from agents.llm.pricing import Price
from core.metrics import LLM_CALL_SECONDS

log = structlog.get_logger(__name__)

T = TypeVar("T")


def make_usage(provider: str, model: str, price: Price, input_tokens: int, output_tokens: int) -> Usage:
    return Usage(
        provider=provider,
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=price.cost_usd(input_tokens, output_tokens),
    )


def elapsed_ms(started: float) -> int:
    return round((time.perf_counter() - started) * 1000)


def log_completed(call: str, usage: Usage, started: float) -> None:
    log.info("llm.completed", call=call, **usage.as_dict(), latency_ms=elapsed_ms(started))


def log_failed(call: str, model: str, error: LLMError, started: float, **extra: Any) -> None:
    log.warning(
        "llm.failed",
        call=call,
        provider=error.provider,
        model=model,
        status=error.status,
        reason=error.reason,
        latency_ms=elapsed_ms(started),
        **extra,
    )


class LlmCall:
    """One call to a provider, timed and traced: what fails inside is turned into an ``LLMError`` by
    the provider's ``translate``, logged once as failed and raised; ``completed`` logs a success.

    Errors the provider does not know (``translate`` gives None) pass through untouched; the span
    ends with their class name (a cancelled turn, a stream its reader closed early). Every call is
    timed, whatever its end: ``ok``, ``failed``, or ``cancelled`` (a stream nobody read to its end).

    The SDKs' timeout bounds each read of each attempt, so a slow trickle or retries could run far
    past it; ``within`` and ``each`` hold the whole call, retries and stream included, to
    ``seconds`` (a ``TimeoutError`` the provider's ``translate`` names).
    """

    def __init__(
        self,
        provider: str,
        call: str,
        model: str,
        translate: Callable[[BaseException], LLMError | None],
        seconds: float,
    ) -> None:
        self.call = call
        self.provider = provider
        self.model = model
        self._translate = translate
        self._span = start_chat_span(provider, model, call)
        self.started = time.perf_counter()
        self._deadline = asyncio.get_running_loop().time() + seconds

    async def within(self, step: Awaitable[T]) -> T:
        async with asyncio.timeout_at(self._deadline):
            return await step

    async def each(self, items: AsyncIterator[T]) -> AsyncIterator[T]:
        """``items`` as they come, the last of them before the deadline."""
        while True:
            try:
                async with asyncio.timeout_at(self._deadline):
                    item = await anext(items)
            except StopAsyncIteration:
                return
            yield item

    def __enter__(self) -> LlmCall:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            return
        cancelled = isinstance(exc, GeneratorExit | asyncio.CancelledError)
        self._timed("cancelled" if cancelled else "failed")
        error = exc if isinstance(exc, LLMError) else self._translate(exc)
        if error is None:
            fail_chat_span(self._span, type(exc).__name__)
            return
        fail_chat_span(self._span, str(error.status) if error.status is not None else type(exc).__name__)
        log_failed(self.call, self.model, error, self.started)
        if error is not exc:
            raise error from exc

    def completed(
        self, usage: Usage, *, response_model: str | None = None, finish_reasons: Sequence[str] = ()
    ) -> None:
        """``response_model``: the model the provider says answered (a dated version of the one asked
        for); ``finish_reasons``: why it stopped (``stop``, ``length``, ``end_turn``…), as it says."""
        end_chat_span(self._span, usage.input_tokens, usage.output_tokens, response_model, finish_reasons)
        log_completed(self.call, usage, self.started)
        self._timed("ok")

    def _timed(self, outcome: str) -> None:
        elapsed = time.perf_counter() - self.started
        LLM_CALL_SECONDS.labels(self.provider, self.model, self.call, outcome).observe(elapsed)
