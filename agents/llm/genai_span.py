"""One span per LLM call, after OpenTelemetry's GenAI semantic conventions (``chat {model}``).

It carries who answered, which model, the tokens and why generation stopped; never the prompt, the
reply or a key. The span is not made current: a streaming call lives in an async generator, whose
steps may run in other contexts, and nothing is traced beneath it.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from core.tracing import tracer

OPERATION = "chat"


def provider_name(kind: str) -> str:
    """The convention's ``gen_ai.provider.name``: an OpenAI-compatible server speaks OpenAI's API, and
    the convention names the API the client used when it cannot know the system behind it."""
    return "anthropic" if kind == "anthropic" else "openai"


def start_chat_span(kind: str, model: str, call: str) -> Span:
    """``call``: ``complete``, ``stream`` or ``json`` (Atende's own attribute; all three are chats)."""
    provider = provider_name(kind)
    return tracer.start_span(
        f"{OPERATION} {model}",
        kind=SpanKind.CLIENT,
        attributes={
            "gen_ai.operation.name": OPERATION,
            "gen_ai.provider.name": provider,
            "gen_ai.system": provider,  # the older name of the same attribute, which many backends still read
            "gen_ai.request.model": model,
            "atende.llm.call": call,
        },
    )


def end_chat_span(
    span: Span,
    input_tokens: int,
    output_tokens: int,
    response_model: str | None,
    finish_reasons: Sequence[str],
) -> None:
    if span.is_recording():
        span.set_attribute("gen_ai.usage.input_tokens", input_tokens)
        span.set_attribute("gen_ai.usage.output_tokens", output_tokens)
        if response_model:
            span.set_attribute("gen_ai.response.model", response_model)
        if finish_reasons:
            span.set_attribute("gen_ai.response.finish_reasons", list(finish_reasons))
    span.end()


def fail_chat_span(span: Span, error_type: str) -> None:
    """``error_type``: the HTTP status when the provider answered one, else the error's class name.
    The error's words stay in the log: a provider's or a model's message may quote the prompt."""
    span.set_attribute("error.type", error_type)
    span.set_status(Status(StatusCode.ERROR))
    span.end()
