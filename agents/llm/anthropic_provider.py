"""Anthropic's Messages API through the SDK's ``AsyncAnthropic``.

The system prompt goes in the top-level ``system`` field; structured output is a forced tool call
whose ``input_schema`` is the schema, which every Claude model supports. The SDK does the retrying.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TypedDict

import anthropic
from anthropic.types import MessageParam

from agents.llm.base import ChatMessage, Completion, JsonAnswer, LLMError, Schema, Usage
from agents.llm.config import ProviderConfig
from agents.llm.pricing import resolve_price
from agents.llm.sdk_errors import SdkErrors, sdk_call
from agents.llm.telemetry import make_usage

_SDK_ERRORS = SdkErrors(
    anthropic.APIError, anthropic.APIStatusError, anthropic.APITimeoutError, anthropic.APIConnectionError
)

_TAKE_TEMPERATURE = (
    "claude-3",
    "claude-haiku-4",
    "claude-sonnet-4",
    "claude-opus-4-0",
    "claude-opus-4-1",
    "claude-opus-4-2025",
    "claude-opus-4-5",
    "claude-opus-4-6",
)


class _Request(TypedDict):
    """What every call sends; a call adds its own (``stream``, a forced tool)."""

    model: str
    system: str | anthropic.Omit
    messages: list[MessageParam]
    max_tokens: int
    extra_body: dict[str, object] | None


class AnthropicProvider:
    name: str = "anthropic"

    def __init__(self, config: ProviderConfig) -> None:
        if config.kind != "anthropic":
            raise ValueError(f"kind must be anthropic for AnthropicProvider, got {config.kind!r}")
        self.model: str = config.model
        self._config = config
        self._price = resolve_price(config.model, config.input_price_per_mtok, config.output_price_per_mtok)
        try:
            self._client = anthropic.AsyncAnthropic(
                api_key=config.api_key,
                base_url=config.base_url,
                timeout=config.timeout_seconds,
                max_retries=config.max_retries,
                # Atende traces each call itself (agents.llm.genai_span), the same for every provider; the
                # SDK's own spans would double it, and its content mode (an environment variable) would put
                # customers' messages in traces.
                open_telemetry={"traces": False, "propagation": False},
            )
        except anthropic.AnthropicError as exc:  # a broken credentials profile on disk
            raise ValueError(f"api_key is not set and the SDK found no usable credentials: {exc}") from exc
        # The SDK looks for a key in the environment and its profiles, and would only complain at the first call.
        if (
            self._client.api_key is None
            and self._client.auth_token is None
            and self._client.credentials is None
        ):
            raise ValueError(
                "api_key is required for the anthropic provider (set it, or the ANTHROPIC_API_KEY variable)"
            )

    async def aclose(self) -> None:
        """Close the SDK's connection pool (at shutdown; the provider is not used after)."""
        await self._client.close()

    def _request(
        self, system: str, messages: list[ChatMessage], max_tokens: int, temperature: float
    ) -> _Request:
        """The arguments every call shares. Each role has its own type in the SDK, hence the two literals."""
        wire: list[MessageParam] = [
            {"role": "user", "content": m.content}
            if m.role == "user"
            else {"role": "assistant", "content": m.content}
            for m in messages
        ]
        return _Request(
            model=self.model,
            system=system or anthropic.omit,
            messages=wire,
            max_tokens=max_tokens,
            extra_body=self._sampling(temperature),
        )

    def _sampling(self, temperature: float) -> dict[str, object] | None:
        """``temperature`` as extra body, for the models that still take it.

        SDK 1.0 dropped it from the typed parameters and models after Claude Opus 4.6 refuse it,
        so for them (and models we do not know) it is left out and the API's default applies.
        """
        if self.model.startswith(_TAKE_TEMPERATURE):
            return {"temperature": temperature}
        return None

    def _usage(self, input_tokens: int, output_tokens: int) -> Usage:
        return make_usage(self.name, self.model, self._price, input_tokens, output_tokens)

    async def complete(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> Completion:
        with sdk_call(self.name, "complete", self._config, _SDK_ERRORS) as call:
            response = await call.within(
                self._client.messages.create(**self._request(system, messages, max_tokens, temperature))
            )
        text = "".join(block.text for block in response.content if block.type == "text")
        usage = self._usage(response.usage.input_tokens, response.usage.output_tokens)
        call.completed(usage, response_model=response.model, finish_reasons=_stop(response.stop_reason))
        return Completion(text=text, usage=usage)

    async def stream(
        self, system: str, messages: list[ChatMessage], *, max_tokens: int = 512, temperature: float = 0.0
    ) -> AsyncIterator[str | Usage]:
        input_tokens = output_tokens = 0
        answered_by: str | None = None
        stop_reason: str | None = None
        with sdk_call(self.name, "stream", self._config, _SDK_ERRORS) as call:
            events = await call.within(
                self._client.messages.create(
                    **self._request(system, messages, max_tokens, temperature), stream=True
                )
            )
            async with events:
                async for event in call.each(aiter(events)):
                    if event.type == "message_start":
                        answered_by = event.message.model
                        input_tokens = event.message.usage.input_tokens
                        output_tokens = event.message.usage.output_tokens
                    elif event.type == "content_block_delta" and event.delta.type == "text_delta":
                        if event.delta.text:
                            yield event.delta.text
                    elif event.type == "message_delta":
                        # Counts on message_delta are running totals: they replace, never add.
                        output_tokens = event.usage.output_tokens
                        if event.usage.input_tokens is not None:
                            input_tokens = event.usage.input_tokens
                        stop_reason = event.delta.stop_reason or stop_reason
        usage = self._usage(input_tokens, output_tokens)
        call.completed(usage, response_model=answered_by, finish_reasons=_stop(stop_reason))
        yield usage

    async def complete_json(
        self, system: str, messages: list[ChatMessage], schema: Schema, *, name: str, max_tokens: int = 512
    ) -> JsonAnswer:
        with sdk_call(self.name, "json", self._config, _SDK_ERRORS) as call:
            response = await call.within(
                self._client.messages.create(
                    **self._request(system, messages, max_tokens, 0.0),
                    tools=[
                        {"name": name, "description": f"Record the answer as {name}.", "input_schema": schema}
                    ],
                    tool_choice={"type": "tool", "name": name},
                )
            )
            answer = next(
                (
                    block.input
                    for block in response.content
                    if block.type == "tool_use" and block.name == name and isinstance(block.input, dict)
                ),
                None,
            )
            if answer is None:
                raise LLMError(
                    self.name, f"the reply did not call the {name} tool (stop_reason={response.stop_reason})"
                )
        usage = self._usage(response.usage.input_tokens, response.usage.output_tokens)
        call.completed(usage, response_model=response.model, finish_reasons=_stop(response.stop_reason))
        return answer, usage


def _stop(stop_reason: str | None) -> list[str]:
    """The trace's ``finish_reasons``: Anthropic gives one ``stop_reason`` per message."""
    return [stop_reason] if stop_reason else []
