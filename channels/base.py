"""The protocol every channel adapter follows, and the normalized inbound message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from channels.errors import InvalidMessageError

MAX_TEXT_LENGTH = 4096


@dataclass(frozen=True)
class InboundMessage:
    """A customer's message as any channel hands it to the pipeline."""

    contact_external_id: str
    """Who wrote, in the channel's terms: a web chat session id, a Telegram chat id, a phone number."""
    text: str
    channel_message_id: str
    """The channel's own id for the message: the same id twice is the same message."""
    contact_name: str | None = None

    def __post_init__(self) -> None:
        if not self.text.strip():
            raise InvalidMessageError("text", "must not be empty")
        if len(self.text) > MAX_TEXT_LENGTH:
            raise InvalidMessageError("text", f"must have at most {MAX_TEXT_LENGTH} characters")
        if not self.contact_external_id.strip():
            raise InvalidMessageError("session_id", "must not be empty")


class Publisher(Protocol):
    """Real-time fan-out (Litestar channels in the app; nothing in the CLI)."""

    async def publish(self, stream: str, event: dict[str, Any]) -> None: ...


class ChannelAdapter(Protocol):
    """Delivers an outbound message to the customer on one kind of channel."""

    type: str

    async def deliver(self, tenant_id: str, contact_external_id: str, message: dict[str, Any]) -> None: ...


@runtime_checkable
class StreamingAdapter(Protocol):
    """A channel that can show a reply while the model is still writing it (the web chat)."""

    async def deliver_partial(
        self, tenant_id: str, contact_external_id: str, reply_to: str, text: str
    ) -> None:
        """``text`` is the next piece of the reply to the customer message ``reply_to``."""
