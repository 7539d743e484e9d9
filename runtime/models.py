"""Every table of every part, imported in one place so migrations see one metadata."""

from advanced_alchemy.base import orm_registry

from agents.classifiers.models import ClassifierExample
from agents.models import AgentSettings, LlmUsage
from channels.models import Channel, Contact, Conversation, Message
from evals.models import EvalRun
from handoff.models import Queue, QueueMember, QuickReply, Tag, Ticket, TicketEvent, TicketTag
from knowledge.models import Chunk, Document
from runtime.accounts import Tenant, User
from runtime.api_keys import ApiKey
from runtime.webhooks import WebhookDelivery, WebhookSubscription

metadata = orm_registry.metadata

__all__ = [
    "AgentSettings",
    "ApiKey",
    "Channel",
    "Chunk",
    "ClassifierExample",
    "Contact",
    "Conversation",
    "Document",
    "EvalRun",
    "LlmUsage",
    "Message",
    "Queue",
    "QueueMember",
    "QuickReply",
    "Tag",
    "Tenant",
    "Ticket",
    "TicketEvent",
    "TicketTag",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "metadata",
]
