"""What the broker does with a job that fails for good, or that it cannot read: a dead letter, never a
crash or a silent drop.

- ``Retries``: taskiq's ``SmartRetryMiddleware`` (tries again with backoff, up to the task's
  ``max_retries``), except for a payload it cannot read (``MalformedJobError``): that fails the same way
  every time.
- ``DeadLetters``: after the last try (as ``SmartRetryMiddleware`` counts them: its ``_retries`` label),
  hands the job to its task's ``GiveUp`` (a turn goes to a human and is kept for a replay); a malformed
  payload is kept at once. A job whose last try met the database away is no dead letter: its message,
  upload or outbox job is still stored as to do, and the periodic sweep (``runtime.sweeps``) hands it
  out again once the database is back.
- ``TolerantFormatter``: a queue entry that is not a taskiq message, names no known task, or has no
  body at all (``runtime.redis_stream.NO_DATA``), becomes a job of ``UNDECODABLE_TASK``, which keeps it
  as malformed and is then acknowledged like any job. taskiq would log the whole body and drop it.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from taskiq import TaskiqMessage, TaskiqMiddleware, TaskiqResult
from taskiq.formatters.proxy_formatter import ProxyFormatter
from taskiq.middlewares import SmartRetryMiddleware

from conversations.dead_letters import record_malformed
from conversations.services import Services
from core.database import database_unreachable
from core.dead_letters import MAX_ARG_LENGTH, job_error
from runtime.redis_stream import NO_DATA

log = structlog.get_logger(__name__)

UNDECODABLE_TASK = "atende.undecodable"
GiveUp = Callable[[Services, str, Sequence[Any], str, int], Awaitable[None]]
"""(services, task name, the job's args, its bounded error, how many tries): keep it and act on it."""


class MalformedJobError(Exception):
    """A job's payload that no try can run (an id that is not one): kept as malformed, not retried."""


def job_id(name: str, raw: object) -> uuid.UUID:
    """A task's id argument, or a ``MalformedJobError`` naming the field."""
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        shown = str(raw)[:MAX_ARG_LENGTH]
        raise MalformedJobError(f"{name}: {shown!r} is not a UUID") from None


class Retries(SmartRetryMiddleware):
    async def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[Any], exception: BaseException
    ) -> None:
        if not isinstance(exception, MalformedJobError):
            await super().on_error(message, result, exception)


def _flag(value: object) -> bool:
    return value.lower() == "true" if isinstance(value, str) else bool(value)


class DeadLetters(TaskiqMiddleware):
    """Keeps the jobs given up on: ``give_ups`` by task name; other tasks' failures are kept elsewhere
    (the outbox's deliveries) and only logged here."""

    def __init__(self, default_retry_count: int, give_ups: Mapping[str, GiveUp]) -> None:
        super().__init__()
        self.default_retry_count = default_retry_count
        self.give_ups = give_ups

    def tries(self, message: TaskiqMessage) -> tuple[int, bool]:
        """How many tries this one makes, and whether it was the last (as ``Retries`` decides)."""
        tries = int(message.labels.get("_retries", 0)) + 1
        if not _flag(message.labels.get("retry_on_error")):
            return tries, True
        return tries, tries >= int(message.labels.get("max_retries", self.default_retry_count))

    async def on_error(
        self, message: TaskiqMessage, result: TaskiqResult[Any], exception: BaseException
    ) -> None:
        services: Services | None = getattr(self.broker.state, "services", None)
        error = job_error(exception)
        tries, last = self.tries(message)
        malformed = isinstance(exception, MalformedJobError)  # no retry (see ``Retries``): this was the last
        if services is None or not (last or malformed):
            return
        if database_unreachable(exception):  # not the job's fault: what it is for waits for the sweep
            log.warning("job.left_to_sweep", task=message.task_name, attempts=tries, error=error)
            return
        try:
            if malformed:
                await record_malformed(services, message.task_name, message.args, str(exception))
            elif (give_up := self.give_ups.get(message.task_name)) is not None:
                await give_up(services, message.task_name, message.args, error, tries)
            else:
                log.warning("job.failed", task=message.task_name, attempts=tries, error=error)
        except Exception as exc:  # the database is away: the log is all that is left
            log.error("job.dead_letter_failed", task=message.task_name, error=job_error(exc), job_error=error)


class TolerantFormatter(ProxyFormatter):
    """taskiq's JSON messages; anything else becomes an ``UNDECODABLE_TASK`` job saying why (never the
    body, which may hold anything)."""

    def loads(self, message: bytes) -> TaskiqMessage:
        if message == NO_DATA:
            return _undecodable("", "a queue entry with no data field")
        try:
            parsed = super().loads(message)
        except Exception as exc:
            return _undecodable("", f"not a taskiq message ({len(message)} bytes): {type(exc).__name__}")
        if self.broker.find_task(parsed.task_name) is None:
            return _undecodable(parsed.task_name, "no such task")
        return parsed


def _undecodable(task_name: str, reason: str) -> TaskiqMessage:
    log.warning("job.malformed", task=task_name[:MAX_ARG_LENGTH], reason=reason)
    return TaskiqMessage(
        task_id=uuid.uuid4().hex,
        task_name=UNDECODABLE_TASK,
        labels={},
        args=[task_name[:100], reason],
        kwargs={},
    )
