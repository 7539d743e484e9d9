"""OpenAI's Chat Completions API, and any server that speaks it (vLLM, Ollama, llama.cpp, LiteLLM).

The SDK's ``AsyncOpenAI`` does the retrying: 408/409/429/5xx and connection errors, with exponential
backoff that honours ``retry-after``. We only map what finally fails to ``LLMError``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx2
import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessageParam

from agents.llm.base import ChatMessage, Completion, JsonAnswer, LLMError, Schema, Usage
from agents.llm.config import ProviderConfig
from agents.llm.pricing import resolve_price
from agents.llm.sdk_errors import SdkErrors, broken_stream, past_deadline, to_llm_error, unreadable_reply
from agents.llm.telemetry import LlmCall, make_usage

_SDK_ERRORS = SdkErrors(openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError)

# Local servers usually ignore the key, but the SDK insists on one. Passing it also keeps the SDK from
# sending the environment's OPENAI_API_KEY, a key meant for OpenAI, to some other server.
_NO_KEY_NEEDED = "not-needed"


class OpenAIProvider:
    """``name`` is ``openai`` or ``openai-compatible``: the wire is the same, the defaults differ."""

    def __init__(self, config: ProviderConfig) -> None:
        if config.kind not in ("openai", "openai-compatible"):
            raise ValueError(
                f"kind must be openai or openai-compatible for OpenAIProvider, got {config.kind!r}"
            )
        self.name: str = config.kind
        self.model: str = config.model
        self._config = config
        self._price = resolve_price(config.model, config.input_price_per_mtok, config.output_price_per_mtok)
        api_key = config.api_key
        if api_key is None and config.kind == "openai-compatible":
            api_key = _NO_KEY_NEEDED
        try:
            self._client = openai.AsyncOpenAI(
                api_key=api_key,
                base_url=config.base_url,
                timeout=config.timeout_seconds,
                max_retries=config.max_retries,
            )
        except openai.OpenAIError as exc:
            raise ValueError(
                "api_key is required for the openai provider (set it, or the OPENAI_API_KEY variable)"
            ) from exc

    async def aclose(self) -> None:
        """Close the SDK's connection pool (at shutdown; the provider is not used after)."""
        await self._client.close()

    def _messages(self, system: str, messages: list[ChatMessage]) -> list[ChatCompletionMessageParam]:
        """Each role has its own type in the SDK, hence the literals."""
        wire: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}] if system else []
        return wire + [
            {"role": "user", "content": m.content}
            if m.role == "user"
            else {"role": "assistant", "content": m.content}
            for m in messages
        ]

    def _limits(self, max_tokens: int) -> tuple[int | openai.Omit, int | openai.Omit]:
        """``(max_completion_tokens, max_tokens)``: OpenAI's newer models take only the first,
        many compatible servers only the second."""
        return (max_tokens, openai.omit) if self.name == "openai" else (openai.omit, max_tokens)

    def _usage(self, usage: CompletionUsage | None) -> Usage:
        input_tokens = usage.prompt_tokens if usage is not None else 0
        output_tokens = usage.completion_tokens if usage is not None else 0
        return make_usage(self.name, self.model, self._price, input_tokens, output_tokens)

    def _error(self, exc: openai.APIError) -> LLMError:
        return to_llm_error(self.name, self._config, exc, _SDK_ERRORS)

    def _translate(self, exc: BaseException) -> LLMError | None:
        if isinstance(exc, TimeoutError):
            return past_deadline(self.name, self._config)
        if isinstance(exc, json.JSONDecodeError):
            return unreadable_reply(self.name, exc)
        if isinstance(exc, openai.APIError):
            return self._error(exc)
        if isinstance(
            exc, httpx2.TransportError
        ):  # the SDK wraps these today; a broken stream must not leak raw
            return broken_stream(self.name, exc)
        return None

    async def complete(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> Completion:
        max_completion_tokens, max_legacy_tokens = self._limits(max_tokens)
        with LlmCall(
            self.name, "complete", self.model, self._translate, self._config.timeout_seconds
        ) as call:
            response = await call.within(
                self._client.chat.completions.create(
                    model=self.model,
                    messages=self._messages(system, messages),
                    temperature=temperature,
                    max_completion_tokens=max_completion_tokens,
                    max_tokens=max_legacy_tokens,
                )
            )
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = self._usage(response.usage)
        call.completed(usage, response_model=response.model, finish_reasons=_finish_reasons(response.choices))
        return Completion(text=text, usage=usage)

    async def stream(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> AsyncIterator[str | Usage]:
        max_completion_tokens, max_legacy_tokens = self._limits(max_tokens)
        usage = self._usage(None)  # servers that ignore include_usage report nothing: zero, not a guess
        answered_by: str | None = None
        finish_reasons: list[str] = []
        with LlmCall(self.name, "stream", self.model, self._translate, self._config.timeout_seconds) as call:
            chunks = await call.within(
                self._client.chat.completions.create(
                    model=self.model,
                    messages=self._messages(system, messages),
                    temperature=temperature,
                    stream=True,
                    stream_options={"include_usage": True},
                    max_completion_tokens=max_completion_tokens,
                    max_tokens=max_legacy_tokens,
                )
            )
            async with chunks:
                async for chunk in call.each(aiter(chunks)):
                    answered_by = chunk.model or answered_by
                    if chunk.usage is not None:
                        usage = self._usage(chunk.usage)
                    finish_reasons += _finish_reasons(chunk.choices)
                    for choice in chunk.choices:
                        if choice.index == 0 and choice.delta.content:
                            yield choice.delta.content
        call.completed(usage, response_model=answered_by, finish_reasons=finish_reasons)
        yield usage

    async def complete_json(
        self, system: str, messages: list[ChatMessage], schema: Schema, *, name: str, max_tokens: int = 512
    ) -> JsonAnswer:
        max_completion_tokens, max_legacy_tokens = self._limits(max_tokens)
        with LlmCall(self.name, "json", self.model, self._translate, self._config.timeout_seconds) as call:
            response = await call.within(
                self._client.chat.completions.create(
                    model=self.model,
                    messages=self._messages(system, messages),
                    temperature=0.0,
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": name, "schema": schema, "strict": True},
                    },
                    max_completion_tokens=max_completion_tokens,
                    max_tokens=max_legacy_tokens,
                )
            )
            message = response.choices[0].message if response.choices else None
            if message is None:
                raise LLMError(self.name, "the reply had no choices")
            if message.refusal:
                raise LLMError(self.name, f"the model refused to fill {name}: {message.refusal}")
            parsed = _parse_object(self.name, name, message.content or "")
        usage = self._usage(response.usage)
        call.completed(usage, response_model=response.model, finish_reasons=_finish_reasons(response.choices))
        return parsed, usage


def _finish_reasons(choices: Sequence[Any]) -> list[str]:
    """Why each choice stopped, for the trace (a streamed chunk names it only in its last one)."""
    return [str(choice.finish_reason) for choice in choices if getattr(choice, "finish_reason", None)]


def _parse_object(provider: str, name: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMError(provider, f"the reply for {name} is not valid JSON ({exc.msg} at {exc.pos})") from exc
    if not isinstance(value, dict):
        raise LLMError(provider, f"the reply for {name} is JSON but not an object ({type(value).__name__})")
    return value
