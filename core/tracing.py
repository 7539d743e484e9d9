"""OpenTelemetry traces, sent to an OTLP/HTTP collector only when ATENDE_OTEL_ENDPOINT is set.

Unset, nothing is configured: spans come from the OpenTelemetry API's no-op tracer, which records
nothing and exports nothing, so tracing costs a few function calls per span. Set, the SDK batches
spans on a background thread (``BatchSpanProcessor``) and posts them as protobuf to
``{endpoint}/v1/traces``. Spans carry ids, counts and labels, never a message's text.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

from core.settings import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

TRACES_PATH = "/v1/traces"

tracer = trace.get_tracer("atende")
"""Atende's tracer: the API's proxy, a no-op until ``configure_tracing`` registers a provider."""

_provider: TracerProvider | None = None


def traces_url(endpoint: str) -> str:
    """The collector's traces URL: the base address (``http://collector:4318``) plus ``/v1/traces``;
    a URL that already names the path is kept."""
    if not endpoint.startswith(("http://", "https://")):
        raise ValueError(f"ATENDE_OTEL_ENDPOINT must be an http:// or https:// URL, got {endpoint!r}")
    base = endpoint.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


def configure_tracing(settings: Settings, service_name: str) -> TracerProvider | None:
    """Register the SDK's provider for this process (``atende-web``, ``atende-worker``), once.

    Nothing happens, and the SDK is not even imported, when ATENDE_OTEL_ENDPOINT is unset. A second
    call returns the provider of the first: OpenTelemetry allows one per process.
    """
    global _provider
    if not settings.otel_endpoint:
        return None
    url = traces_url(settings.otel_endpoint)
    if _provider is not None:
        return _provider
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Resource.create also reads OTEL_RESOURCE_ATTRIBUTES (deployment.environment, host names…).
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
    trace.set_tracer_provider(provider)  # shut down (flushing what is queued) when the process exits
    _provider = provider
    return provider


def flush_traces() -> None:
    """Export the spans still queued now, rather than on the batch's timer (a command about to exit)."""
    if _provider is not None:
        _provider.force_flush()


def trace_ids() -> dict[str, str]:
    """The current span's ``trace_id`` and ``span_id`` in hex, as collectors show them; empty outside
    a recording span (no span open, or tracing off)."""
    span_context = trace.get_current_span().get_span_context()
    if not span_context.is_valid:
        return {}
    return {
        "trace_id": format(span_context.trace_id, "032x"),
        "span_id": format(span_context.span_id, "016x"),
    }


def trace_carrier() -> dict[str, str]:
    """The current span as W3C ``traceparent`` (and ``tracestate``) entries, for a job's labels, so the
    worker's spans join the trace of the request that enqueued it. Empty when there is no span."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


@contextmanager
def continued_trace(carrier: Mapping[str, Any]) -> Iterator[None]:
    """Spans opened inside are children of the span named in ``carrier`` (see ``trace_carrier``)."""
    entries = {key: str(value) for key, value in carrier.items() if key in ("traceparent", "tracestate")}
    if not entries:
        yield
        return
    token = otel_context.attach(propagate.extract(entries))
    try:
        yield
    finally:
        otel_context.detach(token)
