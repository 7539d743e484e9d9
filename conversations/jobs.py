"""The jobs the pipeline asks for, named by what they do; the application shell decides where they run.

On embedded defaults they run on taskiq's in-process broker, with Redis on workers: the pipeline
neither knows nor imports which (see ``runtime.broker``).
"""

from __future__ import annotations

import uuid
from typing import Protocol


class Jobs(Protocol):
    async def run_turn(self, message_id: uuid.UUID) -> None:
        """The agent's turn for a stored customer message."""

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        """Hand a stored outbound message to its channel."""

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        """POST one queued event to a webhook subscriber."""

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        """Parse and embed an uploaded document."""


class NoJobs:
    """For one-shot commands that enqueue nothing: asking for a job there is a bug, said loudly."""

    async def run_turn(self, message_id: uuid.UUID) -> None:
        raise RuntimeError("this process has no job queue: cannot run a turn")

    async def deliver_message(self, message_id: uuid.UUID) -> None:
        raise RuntimeError("this process has no job queue: cannot deliver a message")

    async def deliver_webhook(self, delivery_id: uuid.UUID) -> None:
        raise RuntimeError("this process has no job queue: cannot deliver a webhook")

    async def ingest_upload(self, tenant_id: uuid.UUID, document_id: uuid.UUID) -> None:
        raise RuntimeError("this process has no job queue: cannot ingest an upload")
