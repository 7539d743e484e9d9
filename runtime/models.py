"""Every table of every part, imported in one place so migrations see one metadata."""

from advanced_alchemy.base import orm_registry

from channels.models import Channel, Contact, Conversation, Message
from handoff.models import Queue, Ticket
from knowledge.models import Chunk, Document
from runtime.accounts import Tenant, User

metadata = orm_registry.metadata

__all__ = [
    "Channel",
    "Chunk",
    "Contact",
    "Conversation",
    "Document",
    "Message",
    "Queue",
    "Tenant",
    "Ticket",
    "User",
    "metadata",
]
