"""LLM providers, through the real OpenAI and Anthropic SDKs against servers on 127.0.0.1.

What a team running Atende relies on: every provider answers, streams and reports what it cost;
rate limits are ridden out; failures end in one clear ``LLMError``; a fallback keeps the bot talking.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from structlog.testing import capture_logs

from agents.llm import (
    ChatMessage,
    LLMError,
    LLMProvider,
    ProviderConfig,
    ProviderKind,
    Usage,
    build_provider,
    close_provider,
    listed_price,
)
from tests.fakes.llm_servers import (
    FakeAnthropic,
    FakeDelay,
    FakeDisconnect,
    FakeError,
    FakeLLMServer,
    FakeOpenAI,
)

KEY = "sk-test-0123456789abcdef"
SYSTEM = "You are the support assistant of Loja Azul."  # 8 words
QUESTION = [ChatMessage("user", "Where is my order 1234?")]  # 5 words
PROMPT_TOKENS = 13
REPLY = "Your order ships tomorrow morning."  # 5 words

# Written out rather than read from the table, so a wrong table entry fails here.
MODELS: dict[ProviderKind, tuple[str, float, float]] = {
    "openai": ("gpt-4o-mini", 0.15, 0.60),
    "anthropic": ("claude-haiku-4-5", 1.00, 5.00),
    "openai-compatible": ("llama3.1:8b", 0.0, 0.0),
}
KINDS: list[ProviderKind] = ["openai", "anthropic", "openai-compatible"]

CLASSIFICATION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"intent": {"type": "string"}, "confidence": {"type": "number"}},
    "required": ["intent", "confidence"],
    "additionalProperties": False,
}


_opened: list[LLMProvider] = []


def build(config: ProviderConfig, fallback: ProviderConfig | None = None) -> LLMProvider:
    """``build_provider``, closed again after the test so no connection outlives it."""
    provider = build_provider(config, fallback)
    _opened.append(provider)
    return provider


@pytest.fixture(autouse=True)
async def _close_providers() -> AsyncIterator[None]:
    yield
    while _opened:
        await close_provider(_opened.pop())


@dataclass
class Served:
    """One provider kind and the fake server it talks to."""

    kind: ProviderKind
    fake: FakeLLMServer

    def config(self, **overrides: Any) -> ProviderConfig:
        values: dict[str, Any] = {
            "kind": self.kind,
            "model": MODELS[self.kind][0],
            "api_key": None if self.kind == "openai-compatible" else KEY,
            "base_url": self.fake.base_url,
        }
        return ProviderConfig(**(values | overrides))

    def provider(self, **overrides: Any) -> LLMProvider:
        return build(self.config(**overrides))

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        _, input_price, output_price = MODELS[self.kind]
        return (input_tokens * input_price + output_tokens * output_price) / 1e6


def serve(kind: ProviderKind) -> FakeLLMServer:
    return FakeAnthropic() if kind == "anthropic" else FakeOpenAI()


@pytest.fixture(params=KINDS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    with serve(request.param) as fake:
        yield Served(request.param, fake)


@pytest.fixture(params=["openai", "anthropic"])
def served_sdk(request: pytest.FixtureRequest) -> Iterator[Served]:
    """The two SDKs (openai-compatible runs the same SDK as openai)."""
    with serve(request.param) as fake:
        yield Served(request.param, fake)


async def collect(stream: Any) -> list[str | Usage]:
    return [item async for item in stream]


async def collect_until_failure(stream: Any) -> tuple[list[str | Usage], LLMError | None]:
    """What a customer would have seen before the stream failed, and the failure."""
    received: list[str | Usage] = []
    try:
        async for item in stream:
            received.append(item)
    except LLMError as error:
        return received, error
    return received, None


# Answering, streaming, tokens and cost


async def test_each_provider_answers_and_reports_tokens_and_cost(served: Served) -> None:
    served.fake.script(REPLY)

    completion = await served.provider().complete(SYSTEM, QUESTION)

    assert completion.text == REPLY
    usage = completion.usage
    assert (usage.provider, usage.model) == (served.kind, MODELS[served.kind][0])
    assert (usage.input_tokens, usage.output_tokens) == (PROMPT_TOKENS, 5)
    assert usage.cost_usd == pytest.approx(served.cost(PROMPT_TOKENS, 5))


async def test_each_provider_streams_deltas_then_one_usage(served: Served) -> None:
    served.fake.script(REPLY)

    items = await collect(served.provider().stream(SYSTEM, QUESTION))

    texts, usages = items[:-1], items[-1]
    assert all(isinstance(text, str) for text in texts) and len(texts) > 1
    assert "".join(str(text) for text in texts) == REPLY
    assert isinstance(usages, Usage)
    assert (usages.provider, usages.input_tokens, usages.output_tokens) == (served.kind, PROMPT_TOKENS, 5)
    assert usages.cost_usd == pytest.approx(served.cost(PROMPT_TOKENS, 5))
    assert served.fake.requests[0].body["stream"] is True


async def test_openai_stream_asks_for_usage_in_the_last_chunk() -> None:
    with FakeOpenAI() as fake:
        await collect(Served("openai", fake).provider().stream(SYSTEM, QUESTION))

    assert fake.requests[0].body["stream_options"] == {"include_usage": True}


async def test_openai_gets_the_system_prompt_as_a_system_message() -> None:
    with FakeOpenAI() as fake:
        await Served("openai", fake).provider().complete(SYSTEM, QUESTION, max_tokens=200, temperature=0.3)

    request = fake.requests[0]
    assert request.body["messages"] == [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Where is my order 1234?"},
    ]
    assert (request.body["max_completion_tokens"], request.body["temperature"]) == (200, 0.3)
    assert request.headers["authorization"] == f"Bearer {KEY}"


async def test_anthropic_gets_the_system_prompt_in_the_top_level_field() -> None:
    history = [*QUESTION, ChatMessage("assistant", "Let me check."), ChatMessage("user", "Thanks")]
    with FakeAnthropic() as fake:
        await Served("anthropic", fake).provider().complete(SYSTEM, history, max_tokens=200)

    request = fake.requests[0]
    assert request.body["system"] == SYSTEM
    assert [message["role"] for message in request.body["messages"]] == ["user", "assistant", "user"]
    assert (request.body["max_tokens"], request.body["temperature"]) == (200, 0.0)
    # The API takes x-api-key; the SDK's newer releases send the same key as a bearer token.
    assert KEY in (
        request.headers.get("x-api-key"),
        request.headers.get("authorization", "").removeprefix("Bearer "),
    )


async def test_openai_compatible_server_needs_no_key_and_gets_max_tokens() -> None:
    with FakeOpenAI() as fake:
        completion = (
            await Served("openai-compatible", fake).provider().complete(SYSTEM, QUESTION, max_tokens=64)
        )

    assert completion.text == "echo: Where is my order 1234?"
    assert completion.usage.cost_usd == 0.0
    assert fake.requests[0].body["max_tokens"] == 64
    assert "max_completion_tokens" not in fake.requests[0].body


async def test_configured_prices_override_the_table() -> None:
    with FakeOpenAI() as fake:
        fake.script(REPLY)
        provider = Served("openai-compatible", fake).provider(
            input_price_per_mtok=1.0, output_price_per_mtok=3.0
        )
        completion = await provider.complete(SYSTEM, QUESTION)

    assert completion.usage.cost_usd == pytest.approx((PROMPT_TOKENS * 1.0 + 5 * 3.0) / 1e6)


def test_price_table_matches_the_longest_model_prefix() -> None:
    assert listed_price("gpt-4o-mini-2024-07-18").input_per_mtok == 0.15
    assert listed_price("gpt-4o-2024-08-06").input_per_mtok == 2.50
    assert listed_price("claude-sonnet-4-20250514").output_per_mtok == 15.00
    assert listed_price("qwen2.5:7b-instruct").input_per_mtok == 0.0


# Retries and errors


async def test_rate_limit_is_retried_and_then_answers(served_sdk: Served) -> None:
    served_sdk.fake.script(FakeError(429, "Rate limit reached"), REPLY)

    completion = await served_sdk.provider().complete(SYSTEM, QUESTION)

    assert completion.text == REPLY
    assert len(served_sdk.fake.requests) == 2


async def test_server_error_that_persists_raises_after_all_attempts(served_sdk: Served) -> None:
    served_sdk.fake.script(*[FakeError(500, "The server had an error")] * 3, "too late")

    with pytest.raises(LLMError) as raised:
        await served_sdk.provider(max_retries=2).complete(SYSTEM, QUESTION)

    assert len(served_sdk.fake.requests) == 3
    assert raised.value.status == 500
    assert raised.value.provider == served_sdk.kind
    assert str(raised.value).startswith(f"{served_sdk.kind} answered HTTP 500")
    assert "The server had an error" in str(raised.value)


async def test_bad_request_is_not_retried(served_sdk: Served) -> None:
    served_sdk.fake.script(FakeError(400, "max_tokens: must be at least 1"), REPLY)

    with pytest.raises(LLMError) as raised:
        await served_sdk.provider().complete(SYSTEM, QUESTION)

    assert len(served_sdk.fake.requests) == 1
    assert raised.value.status == 400
    assert "max_tokens: must be at least 1" in str(raised.value)


async def test_rejected_key_never_appears_in_the_error(served_sdk: Served) -> None:
    served_sdk.fake.script(FakeError(401, f"Incorrect API key provided: {KEY}"))

    with pytest.raises(LLMError) as raised:
        await served_sdk.provider().complete(SYSTEM, QUESTION)

    assert raised.value.status == 401
    assert KEY not in str(raised.value) and KEY[-4:] not in str(raised.value)
    assert len(served_sdk.fake.requests) == 1


async def test_slow_server_raises_a_timeout_error(served_sdk: Served) -> None:
    served_sdk.fake.script(FakeDelay(5.0, then=REPLY))

    with pytest.raises(LLMError) as raised:
        await served_sdk.provider(timeout_seconds=0.2, max_retries=0).complete(SYSTEM, QUESTION)

    assert "no answer within 0.2s" in str(raised.value)
    assert raised.value.status is None


async def test_unreachable_server_raises_llm_error(served_sdk: Served) -> None:
    config = served_sdk.config(max_retries=0)
    served_sdk.fake.stop()

    with pytest.raises(LLMError, match="could not reach the API"):
        await build(config).complete(SYSTEM, QUESTION)


async def test_failure_before_a_stream_starts_raises_llm_error(served_sdk: Served) -> None:
    served_sdk.fake.script(FakeError(400, "messages: at least one message is required"))

    with pytest.raises(LLMError) as raised:
        await collect(served_sdk.provider().stream(SYSTEM, QUESTION))

    assert raised.value.status == 400


# Fallback


async def test_fallback_answers_when_the_primary_keeps_failing() -> None:
    with FakeOpenAI() as primary, FakeAnthropic() as backup:
        primary.script(*[FakeError(503, "overloaded")] * 2)
        backup.script(REPLY)
        provider = build(
            Served("openai", primary).config(max_retries=1), fallback=Served("anthropic", backup).config()
        )

        completion = await provider.complete(SYSTEM, QUESTION)

    assert completion.text == REPLY
    assert (completion.usage.provider, completion.usage.model) == ("anthropic", "claude-haiku-4-5")
    assert (len(primary.requests), len(backup.requests)) == (2, 1)


async def test_fallback_answers_when_the_primary_times_out() -> None:
    with FakeAnthropic() as primary, FakeOpenAI() as backup:
        primary.script(FakeDelay(5.0))
        provider = build(
            Served("anthropic", primary).config(timeout_seconds=0.2, max_retries=0),
            fallback=Served("openai-compatible", backup).config(),
        )

        completion = await provider.complete(SYSTEM, QUESTION)

    assert completion.text == "echo: Where is my order 1234?"
    assert completion.usage.provider == "openai-compatible"


async def test_fallback_is_not_used_when_the_primary_answers() -> None:
    with FakeOpenAI() as primary, FakeAnthropic() as backup:
        provider = build(Served("openai", primary).config(), fallback=Served("anthropic", backup).config())

        completion = await provider.complete(SYSTEM, QUESTION)

    assert completion.usage.provider == "openai"
    assert backup.requests == []


async def test_fallback_streams_when_the_primary_fails_before_any_text() -> None:
    with FakeOpenAI() as primary, FakeAnthropic() as backup:
        primary.script(FakeError(500))
        backup.script(REPLY)
        provider = build(
            Served("openai", primary).config(max_retries=0), fallback=Served("anthropic", backup).config()
        )

        items = await collect(provider.stream(SYSTEM, QUESTION))

    assert "".join(item for item in items if isinstance(item, str)) == REPLY
    usage = items[-1]
    assert isinstance(usage, Usage) and usage.provider == "anthropic"


async def test_stream_cut_after_text_raises_instead_of_falling_back() -> None:
    with FakeOpenAI() as primary, FakeAnthropic() as backup:
        primary.script(FakeDisconnect(REPLY, after_deltas=2))
        provider = build(
            Served("openai", primary).config(max_retries=0), fallback=Served("anthropic", backup).config()
        )

        received, error = await collect_until_failure(provider.stream(SYSTEM, QUESTION))

    assert received == ["Your ", "order "]
    assert error is not None and error.provider == "openai"
    assert backup.requests == []


async def test_anthropic_stream_cut_midway_raises_llm_error() -> None:
    with FakeAnthropic() as fake:
        fake.script(FakeDisconnect(REPLY, after_deltas=1))

        received, error = await collect_until_failure(
            Served("anthropic", fake).provider().stream(SYSTEM, QUESTION)
        )

    assert received == ["Your "]
    assert error is not None and "the stream broke off" in str(error)


# Structured output


async def test_openai_structured_output_returns_the_parsed_object() -> None:
    with FakeOpenAI() as fake:
        fake.script({"intent": "refund", "confidence": 0.9})

        parsed, usage = (
            await Served("openai", fake)
            .provider()
            .complete_json(SYSTEM, QUESTION, CLASSIFICATION_SCHEMA, name="classification")
        )

    assert parsed == {"intent": "refund", "confidence": 0.9}
    assert usage.output_tokens > 0
    assert fake.requests[0].body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "classification", "schema": CLASSIFICATION_SCHEMA, "strict": True},
    }


async def test_anthropic_structured_output_is_a_forced_tool_call() -> None:
    with FakeAnthropic() as fake:
        fake.script({"intent": "refund", "confidence": 0.9})

        parsed, usage = (
            await Served("anthropic", fake)
            .provider()
            .complete_json(SYSTEM, QUESTION, CLASSIFICATION_SCHEMA, name="classification")
        )

    assert parsed == {"intent": "refund", "confidence": 0.9}
    assert usage.provider == "anthropic"
    body = fake.requests[0].body
    assert body["tool_choice"] == {"type": "tool", "name": "classification"}
    assert [(tool["name"], tool["input_schema"]) for tool in body["tools"]] == [
        ("classification", CLASSIFICATION_SCHEMA)
    ]
    assert body["system"] == SYSTEM


async def test_openai_compatible_reply_that_is_not_json_raises_llm_error() -> None:
    with FakeOpenAI() as fake:
        fake.script("Sure! The intent is refund.")

        with pytest.raises(LLMError, match="not valid JSON"):
            await (
                Served("openai-compatible", fake)
                .provider()
                .complete_json(SYSTEM, QUESTION, CLASSIFICATION_SCHEMA, name="classification")
            )

    assert fake.requests[0].body["response_format"]["type"] == "json_schema"


async def test_anthropic_reply_without_the_tool_call_raises_llm_error() -> None:
    with FakeAnthropic() as fake:
        fake.script("I would rather answer in prose.")

        with pytest.raises(LLMError, match="did not call the classification tool"):
            await (
                Served("anthropic", fake)
                .provider()
                .complete_json(SYSTEM, QUESTION, CLASSIFICATION_SCHEMA, name="classification")
            )


# Configuration and logs


def test_openai_compatible_without_base_url_names_the_field() -> None:
    with pytest.raises(ValueError, match="base_url"):
        ProviderConfig(kind="openai-compatible", model="llama3.1:8b")


def test_openai_without_any_key_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)

    with pytest.raises(ValueError, match="api_key"):
        build_provider(ProviderConfig(kind="openai", model="gpt-4o-mini"))


def test_anthropic_without_any_key_names_the_field(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # and no credentials profile on disk

    with pytest.raises(ValueError, match="api_key"):
        build_provider(ProviderConfig(kind="anthropic", model="claude-haiku-4-5"))


def test_config_never_prints_its_key() -> None:
    config = ProviderConfig(kind="openai", model="gpt-4o-mini", api_key=KEY)

    assert KEY not in repr(config)


async def test_logs_say_who_answered_and_what_it_cost_but_not_what_was_said(served_sdk: Served) -> None:
    served_sdk.fake.script(REPLY)

    with capture_logs() as logs:
        await served_sdk.provider().complete(SYSTEM, QUESTION)

    completed = [entry for entry in logs if entry["event"] == "llm.completed"]
    assert len(completed) == 1
    assert completed[0]["log_level"] == "info"
    assert (completed[0]["provider"], completed[0]["input_tokens"], completed[0]["output_tokens"]) == (
        served_sdk.kind,
        PROMPT_TOKENS,
        5,
    )
    logged = repr(logs)
    assert "Where is my order" not in logged and REPLY not in logged and KEY not in logged
