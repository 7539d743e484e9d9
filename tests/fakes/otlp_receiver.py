"""An OpenTelemetry collector's OTLP/HTTP traces endpoint on 127.0.0.1, so the real exporter runs.

It accepts ``POST /v1/traces`` with a protobuf ``ExportTraceServiceRequest`` (gzip or not), decodes it
with ``opentelemetry-proto`` and keeps each span flattened::

    with OtlpReceiver() as receiver:
        ...  # ATENDE_OTEL_ENDPOINT=receiver.origin
        turn = receiver.spans_named("atende.turn")[0]
        assert turn.attributes["atende.turn.outcome"] == "respond"
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.fakes._loopback import HTTPRequest, LoopbackServer, Response

PROTOBUF = "application/x-protobuf"


@dataclass(frozen=True)
class ReceivedSpan:
    name: str
    trace_id: str
    """Hex, as logs and collectors show it."""
    span_id: str
    parent_span_id: str
    """Empty for a trace's root."""
    kind: int
    """The protobuf's ``Span.SpanKind`` (3 is CLIENT)."""
    status_code: int
    """The protobuf's ``Status.StatusCode`` (2 is ERROR)."""
    attributes: dict[str, Any]
    service: str
    """The resource's ``service.name``."""


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_value(item) for item in value.array_value.values]
    if kind == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    return getattr(value, kind) if kind else None


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs if isinstance(pair, KeyValue)}


class OtlpReceiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.spans: list[ReceivedSpan] = []

    def respond(self, request: HTTPRequest) -> Response:
        if request.verb != "POST" or request.path != "/v1/traces":
            return Response(HTTPStatus.NOT_FOUND)
        body = request.body
        if request.headers.get("content-encoding") == "gzip":
            body = gzip.decompress(body)
        export = ExportTraceServiceRequest()
        try:
            export.ParseFromString(body)
        except DecodeError:
            return Response(HTTPStatus.BAD_REQUEST)
        received = [
            ReceivedSpan(
                name=span.name,
                trace_id=span.trace_id.hex(),
                span_id=span.span_id.hex(),
                parent_span_id=span.parent_span_id.hex(),
                kind=span.kind,
                status_code=span.status.code,
                attributes=_attributes(span.attributes),
                service=str(_attributes(resource_spans.resource.attributes).get("service.name", "")),
            )
            for resource_spans in export.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        with self._lock:
            self.spans.extend(received)
        return Response(HTTPStatus.OK, ExportTraceServiceResponse().SerializeToString(), PROTOBUF)

    def spans_named(self, name: str) -> list[ReceivedSpan]:
        with self._lock:
            return [span for span in self.spans if span.name == name]

    def trace(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return [span for span in self.spans if span.trace_id == trace_id]
