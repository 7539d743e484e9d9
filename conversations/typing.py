"""Typing indicators both ways: the customer's, where the channel tells us (web chat), shown in the
inbox; an agent's shown to the customer on their channel and to the rest of the team.

They are courtesies: published straight to the live streams (no webhooks, nothing stored), and a
channel that fails to show one is logged, never raised.
"""

from __future__ import annotations

import time
import uuid

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from channels.base import TypingAdapter
from channels.models import Channel, Contact, Conversation
from channels.service import find_conversation
from channels.stored import channel_access
from conversations.notify import publish_inbox
from conversations.services import Services
from handoff import events

log = structlog.get_logger(__name__)

EVERY_SECONDS = 1.0
"""At most one indicator per this long gets through (the pages send one every 2 s while typing)."""


class Throttle:
    """Lets one indicator through per key every ``EVERY_SECONDS``."""

    def __init__(self) -> None:
        self._last: dict[str, float] = {}

    def allows(self, key: str) -> bool:
        now = time.monotonic()
        if now - self._last.get(key, 0.0) < EVERY_SECONDS:
            return False
        self._last[key] = now
        return True


async def show_typing(services: Services, channel: Channel, contact_external_id: str) -> None:
    """On the customer's channel, if it can show it."""
    adapter = services.adapters.get(channel.type)
    if not isinstance(adapter, TypingAdapter):
        return
    try:
        access = channel_access(channel, services.settings.resolved_secret_key())
        await adapter.show_typing(access, contact_external_id)
    except Exception as exc:  # a courtesy: never worth failing the caller
        log.info("typing.failed", channel=channel.type, error=type(exc).__name__)


async def customer_typing(
    services: Services, session: AsyncSession, channel: Channel, contact_external_id: str
) -> None:
    """The inbox hears that the customer is writing (once they have a conversation)."""
    found = await find_conversation(session, channel.tenant_id, contact_external_id, channel)
    if found is None:
        return
    await publish_inbox(services, channel.tenant_id, events.customer_typing(found[1].id))


async def agent_typing(
    services: Services,
    session: AsyncSession,
    tenant_id: uuid.UUID,
    conversation_id: uuid.UUID,
    user_id: uuid.UUID,
    user_name: str,
) -> None:
    """The customer sees the agent typing on their channel; the team sees who is answering."""
    conversation = await session.scalar(
        select(Conversation).where(Conversation.tenant_id == tenant_id, Conversation.id == conversation_id)
    )
    if conversation is None:
        return
    channel = await session.get_one(Channel, conversation.channel_id)
    contact = await session.get_one(Contact, conversation.contact_id)
    await publish_inbox(services, tenant_id, events.agent_typing(conversation_id, user_id, user_name))
    await show_typing(services, channel, contact.external_id)
