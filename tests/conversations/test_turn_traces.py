"""With ATENDE_OTEL_ENDPOINT set, a turn reaches the collector as a trace: the turn, its graph nodes and
the LLM call (GenAI semantic conventions), with ids, labels and token counts but never the customer's
text; the turn's log lines name the same trace.

The real OTLP/HTTP exporter posts protobuf to a collector's endpoint on 127.0.0.1 (tests/fakes).
OpenTelemetry allows one provider per process, so the tracing here is set up once for the session.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy import select

from agents.llm import AnthropicProvider, ChatMessage, ProviderConfig
from agents.models import LlmUsage
from agents.tenant_settings import save_llm_settings
from channels.base import InboundMessage
from channels.models import Message
from conversations.receive import accept_on_default_channel
from conversations.services import Services
from conversations.turn import TurnResult, run_turn
from core.settings import Settings
from core.tracing import configure_tracing, tracer
from tests.conftest import MakeTenant
from tests.fakes.llm_servers import FakeAnthropic, FakeOpenAI
from tests.fakes.otlp_receiver import OtlpReceiver, ReceivedSpan

QUESTION = "Como tiro a segunda via do boleto?"
ANSWER = "Entre no aplicativo e toque em Financeiro e depois em Segunda via [1]."
ROOT = Path(__file__).resolve().parents[2]
CLIENT = 3  # the protobuf's Span.SpanKind.SPAN_KIND_CLIENT


@pytest.fixture(scope="session")
def collector() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def tracing(collector: OtlpReceiver, settings: Settings) -> Iterator[TracerProvider]:
    provider = configure_tracing(replace(settings, otel_endpoint=collector.origin), "atende-worker")
    assert provider is not None
    yield provider
    provider.force_flush()  # nothing left queued for a collector that is about to stop


async def _turn(services: Services, make_tenant: MakeTenant, llm: dict[str, Any] | None = None) -> TurnResult:
    tenant = await make_tenant()
    if llm:
        async with services.database.sessionmaker.begin() as session:
            await save_llm_settings(
                session, tenant.id, {"primary": llm}, services.settings.resolved_secret_key()
            )
    inbound = InboundMessage(f"s-{uuid.uuid4().hex[:8]}", QUESTION, channel_message_id=uuid.uuid4().hex)
    message_id, _ = await accept_on_default_channel(services, tenant, "webchat", inbound)
    return await run_turn(services, message_id)


def _turn_span(collector: OtlpReceiver, message_id: str | None) -> ReceivedSpan:
    [turn] = [
        s for s in collector.spans_named("atende.turn") if s.attributes["atende.message.id"] == message_id
    ]
    return turn


def _children(collector: OtlpReceiver, parent: ReceivedSpan) -> dict[str, ReceivedSpan]:
    return {s.name: s for s in collector.trace(parent.trace_id) if s.parent_span_id == parent.span_id}


def _assert_no_text(spans: list[ReceivedSpan], *texts: str) -> None:
    for span in spans:
        for key, value in span.attributes.items():
            for text in texts:
                assert text not in str(value), f"{span.name} {key} carries the conversation's text"
    assert spans


async def test_an_offline_turn_arrives_as_a_trace_of_its_steps_and_its_log_lines_name_it(
    services: Services,
    make_tenant: MakeTenant,
    collector: OtlpReceiver,
    tracing: TracerProvider,
    log_lines: io.StringIO,
) -> None:
    result = await _turn(services, make_tenant)
    tracing.force_flush()

    assert result.decision.action == "respond" and result.reply
    turn = _turn_span(collector, result.message_id)
    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, uuid.UUID(result.message_id or ""))
    assert turn.service == "atende-worker"
    assert turn.parent_span_id == ""
    assert turn.attributes["atende.tenant.id"] == str(message.tenant_id)
    assert turn.attributes["atende.conversation.id"] == str(message.conversation_id)
    assert turn.attributes["atende.turn.outcome"] == "respond"
    assert turn.attributes["atende.turn.rule"] == result.decision.rule
    steps = _children(collector, turn)
    assert {"atende.classify", "atende.retrieve", "atende.decide", "atende.respond"} <= steps.keys()
    assert steps["atende.retrieve"].attributes["atende.retrieve.passages"] > 0
    assert steps["atende.decide"].attributes["atende.decision.action"] == "respond"
    assert steps["atende.classify"].attributes["atende.intent"] == result.classification.intent
    _assert_no_text(collector.trace(turn.trace_id), QUESTION, result.reply, "boleto")

    [done] = [line for line in log_lines.getvalue().splitlines() if "turn.done" in line]
    assert re.search(r"trace_id=([0-9a-f]{32})", done)[1] == turn.trace_id  # type: ignore[index]
    assert re.search(r"span_id=([0-9a-f]{16})", done)[1] == turn.span_id  # type: ignore[index]


async def test_the_llm_call_is_a_chat_span_with_the_model_tokens_and_finish_reason(
    services: Services, make_tenant: MakeTenant, collector: OtlpReceiver, tracing: TracerProvider
) -> None:
    with FakeOpenAI(lambda body: ANSWER) as llm:
        config = {
            "provider": "openai",
            "model": "gpt-4o-mini",
            "base_url": llm.base_url,
            "api_key": "sk-test",
        }
        result = await _turn(services, make_tenant, config)
    tracing.force_flush()

    assert result.reply and not result.escalated
    turn = _turn_span(collector, result.message_id)
    respond = _children(collector, turn)["atende.respond"]
    [chat] = _children(collector, respond).values()
    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, uuid.UUID(result.message_id or ""))
        usage = (
            await session.scalars(select(LlmUsage).where(LlmUsage.conversation_id == message.conversation_id))
        ).one()
    assert chat.name == "chat gpt-4o-mini" and chat.kind == CLIENT
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    assert chat.attributes["gen_ai.provider.name"] == chat.attributes["gen_ai.system"] == "openai"
    assert (
        chat.attributes["gen_ai.request.model"] == chat.attributes["gen_ai.response.model"] == "gpt-4o-mini"
    )
    assert chat.attributes["gen_ai.usage.input_tokens"] == usage.input_tokens > 0
    assert chat.attributes["gen_ai.usage.output_tokens"] == usage.output_tokens > 0
    assert chat.attributes["gen_ai.response.finish_reasons"] == ["stop"]
    _assert_no_text(collector.trace(turn.trace_id), QUESTION, ANSWER, result.reply, "boleto")


async def test_an_anthropic_call_is_traced_once_by_atende_not_again_by_the_sdk(
    collector: OtlpReceiver, tracing: TracerProvider
) -> None:
    with FakeAnthropic(lambda body: "Olá!") as llm:
        config = ProviderConfig(
            kind="anthropic", model="claude-3-5-haiku-latest", api_key="k", base_url=llm.base_url
        )
        provider = AnthropicProvider(config)
        with tracer.start_as_current_span("caller") as caller:
            await provider.complete("Be brief.", [ChatMessage("user", "Oi, tudo bem?")])
        await provider.aclose()
    tracing.force_flush()

    trace_id = format(caller.get_span_context().trace_id, "032x")
    spans = collector.trace(trace_id)
    assert sorted(s.name for s in spans) == ["caller", "chat claude-3-5-haiku-latest"]
    [chat] = [s for s in spans if s.name.startswith("chat")]
    assert chat.attributes["gen_ai.provider.name"] == "anthropic"
    assert chat.attributes["gen_ai.response.finish_reasons"] == ["end_turn"]
    _assert_no_text(spans, "Oi, tudo bem?", "Olá!", "Be brief.")


def test_without_an_endpoint_no_span_records_and_the_sdk_is_not_even_loaded(tmp_path: Path) -> None:
    """In a fresh process, as ``atende serve`` starts: the API's no-op tracer, nothing exported."""
    probe = (
        "import sys; from core.settings import Settings; from core.tracing import configure_tracing, tracer\n"
        "assert configure_tracing(Settings(), 'atende-web') is None\n"
        "print(tracer.start_span('atende.turn').is_recording(), 'opentelemetry.sdk' in sys.modules)"
    )
    env = {k: v for k, v in os.environ.items() if k != "ATENDE_OTEL_ENDPOINT"}
    env |= {"ATENDE_DATA_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    ran = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert ran.stdout.split() == ["False", "False"]


def test_a_bad_endpoint_is_an_error_naming_the_setting(settings: Settings) -> None:
    with pytest.raises(ValueError, match="ATENDE_OTEL_ENDPOINT must be an http"):
        configure_tracing(replace(settings, otel_endpoint="collector:4318"), "atende-web")
