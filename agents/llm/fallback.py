"""A second provider that answers when the first one fails, so a provider outage is not a dead bot."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import structlog

from agents.llm.base import (
    ChatMessage,
    Completion,
    JsonAnswer,
    LLMError,
    LLMProvider,
    Schema,
    Usage,
    close_provider,
)

log = structlog.get_logger(__name__)


def _failure(exc: Exception) -> dict[str, Any]:
    if isinstance(exc, LLMError):
        return {"status": exc.status, "reason": exc.reason}
    return {"status": None, "reason": type(exc).__name__}


class FallbackProvider:
    """Calls ``primary``; when it raises ``LLMError`` or times out, ``fallback`` serves the same call.

    ``name`` and ``model`` are the primary's; each ``Usage`` names the provider that really answered.
    A stream falls back only when the primary fails before any text: text already shown to a
    customer cannot be taken back, so a failure after it is raised as is.
    """

    def __init__(self, primary: LLMProvider, fallback: LLMProvider) -> None:
        self.primary = primary
        self.fallback = fallback
        self.name: str = primary.name
        self.model: str = primary.model

    async def aclose(self) -> None:
        """Close both providers' connection pools, when they have one."""
        await close_provider(self.primary)
        await close_provider(self.fallback)

    def _falling_back(self, call: str, exc: Exception) -> None:
        log.warning(
            "llm.fallback",
            call=call,
            primary=self.primary.name,
            primary_model=self.primary.model,
            fallback=self.fallback.name,
            fallback_model=self.fallback.model,
            **_failure(exc),
        )

    async def complete(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> Completion:
        try:
            return await self.primary.complete(
                system, messages, max_tokens=max_tokens, temperature=temperature
            )
        except (LLMError, TimeoutError) as exc:
            self._falling_back("complete", exc)
        return await self.fallback.complete(system, messages, max_tokens=max_tokens, temperature=temperature)

    async def stream(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> AsyncIterator[str | Usage]:
        sent_text = False
        try:
            async for item in self.primary.stream(
                system, messages, max_tokens=max_tokens, temperature=temperature
            ):
                sent_text = sent_text or (isinstance(item, str) and item != "")
                yield item
        except (LLMError, TimeoutError) as exc:
            if sent_text:
                raise
            self._falling_back("stream", exc)
        else:
            return
        async for item in self.fallback.stream(
            system, messages, max_tokens=max_tokens, temperature=temperature
        ):
            yield item

    async def complete_json(
        self, system: str, messages: list[ChatMessage], schema: Schema, *, name: str, max_tokens: int = 512
    ) -> JsonAnswer:
        try:
            return await self.primary.complete_json(
                system, messages, schema, name=name, max_tokens=max_tokens
            )
        except (LLMError, TimeoutError) as exc:
            self._falling_back("json", exc)
        return await self.fallback.complete_json(system, messages, schema, name=name, max_tokens=max_tokens)
