"""OpenAI's Chat Completions API, and any server that speaks it (vLLM, Ollama, llama.cpp, LiteLLM).

The SDK's ``AsyncOpenAI`` does the retrying: 408/409/429/5xx and connection errors, with exponential
backoff that honours ``retry-after``. We only map what finally fails to ``LLMError``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypedDict

import openai
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionMessageParam

from agents.llm.base import ChatMessage, Completion, JsonAnswer, LLMError, Schema, Usage
from agents.llm.config import ProviderConfig
from agents.llm.pricing import resolve_price
from agents.llm.sdk_errors import SdkErrors, sdk_call
from agents.llm.telemetry import make_usage

_SDK_ERRORS = SdkErrors(
    openai.APIError, openai.APIStatusError, openai.APITimeoutError, openai.APIConnectionError
)

# Local servers usually ignore the key, but the SDK insists on one. Passing it also keeps the SDK from
# sending the environment's OPENAI_API_KEY, a key meant for OpenAI, to some other server.
_NO_KEY_NEEDED = "not-needed"


class _Request(TypedDict):
    """What every call sends; a call adds its own (streaming, a response format)."""

    model: str
    messages: list[ChatCompletionMessageParam]
    temperature: float
    max_completion_tokens: int | openai.Omit
    max_tokens: int | openai.Omit


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

    def _request(
        self, system: str, messages: list[ChatMessage], max_tokens: int, temperature: float
    ) -> _Request:
        """The arguments every call shares. Each role has its own type in the SDK, hence the literals. The limit goes in
        ``max_completion_tokens`` for OpenAI (its newer models take only that) and in ``max_tokens``
        for compatible servers (many take only that)."""
        wire: list[ChatCompletionMessageParam] = [{"role": "system", "content": system}] if system else []
        wire += [
            {"role": "user", "content": m.content}
            if m.role == "user"
            else {"role": "assistant", "content": m.content}
            for m in messages
        ]
        openai_limit = self.name == "openai"
        return _Request(
            model=self.model,
            messages=wire,
            temperature=temperature,
            max_completion_tokens=max_tokens if openai_limit else openai.omit,
            max_tokens=openai.omit if openai_limit else max_tokens,
        )

    def _usage(self, usage: CompletionUsage | None) -> Usage:
        input_tokens = usage.prompt_tokens if usage is not None else 0
        output_tokens = usage.completion_tokens if usage is not None else 0
        return make_usage(self.name, self.model, self._price, input_tokens, output_tokens)

    async def complete(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> Completion:
        with sdk_call(self.name, "complete", self._config, _SDK_ERRORS) as call:
            response = await call.within(
                self._client.chat.completions.create(
                    **self._request(system, messages, max_tokens, temperature)
                )
            )
        text = (response.choices[0].message.content or "") if response.choices else ""
        usage = self._usage(response.usage)
        call.completed(usage, response_model=response.model, finish_reasons=_finish_reasons(response.choices))
        return Completion(text=text, usage=usage)

    async def stream(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> AsyncIterator[str | Usage]:
        usage = self._usage(None)  # servers that ignore include_usage report nothing: zero, not a guess
        answered_by: str | None = None
        finish_reasons: list[str] = []
        with sdk_call(self.name, "stream", self._config, _SDK_ERRORS) as call:
            chunks = await call.within(
                self._client.chat.completions.create(
                    **self._request(system, messages, max_tokens, temperature),
                    stream=True,
                    stream_options={"include_usage": True},
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
        with sdk_call(self.name, "json", self._config, _SDK_ERRORS) as call:
            response = await call.within(
                self._client.chat.completions.create(
                    **self._request(system, messages, max_tokens, 0.0),
                    response_format={
                        "type": "json_schema",
                        "json_schema": {"name": name, "schema": schema, "strict": True},
                    },
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
