"""The inbound pipeline: store the customer's message once, then let the agent or a human answer it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import structlog
from langchain_core.runnables import RunnableConfig
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.graph import durability
from agents.replies import say
from agents.state import AgentState
from agents.usage import record_usage
from channels.base import Attachment, StreamingAdapter
from channels.models import Channel, Contact, Conversation, ConversationMode, Direction, Message
from channels.service import add_bot_message
from conversations.history import build_turn_context
from conversations.media import keep_media
from conversations.notify import Outgoing, notify_inbox, send_outgoing
from conversations.services import Services
from conversations.typing import show_typing
from core.accounts import Tenant, next_ticket_number
from handoff.csat import take_rating
from handoff.models import Ticket
from handoff.service import active_ticket, open_ticket
from handoff.views import ticket_event
from knowledge.language import detect_language

log = structlog.get_logger(__name__)

GRAPH_ATTEMPTS = 3
Delta = Callable[[str], Awaitable[None]]


@dataclass
class TurnResult:
    """What one customer message led to; ``atende chat --json`` prints it."""

    reply: str | None
    escalated: bool
    ticket_id: str | None
    citations: list[dict[str, Any]] = field(default_factory=list)
    classification: dict[str, Any] = field(default_factory=dict)
    decision: dict[str, Any] = field(default_factory=dict)
    message_id: str | None = None
    reply_message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def _run_graph(
    services: Services, session: AsyncSession, tenant: Tenant, message: Message, on_delta: Delta
) -> dict[str, Any]:
    """The graph, retried; a failure that survives the retries is a reason to hand off, never a drop.

    A run cut off mid-turn (a worker died, a node failed) is resumed from its last checkpoint
    rather than started again, so the nodes that finished are not run twice.
    """
    config: RunnableConfig = {"configurable": {"thread_id": str(message.conversation_id)}}
    last_error: Exception | None = None
    for attempt in range(1, GRAPH_ATTEMPTS + 1):
        try:
            context = await build_turn_context(services, session, tenant, message)
            snapshot = await services.graph.aget_state(config)
            resume = bool(snapshot.next) and snapshot.values.get("message_id") == str(message.id)
            if resume:
                log.info("agent.resumed", message_id=str(message.id), next=list(snapshot.next))
            # "usage": None starts the turn's LLM usage afresh (see agents.state.turn_usage).
            fresh: dict[str, Any] = {"text": message.text, "message_id": str(message.id), "usage": None}
            state: dict[str, Any] = {}
            async for mode, chunk in services.graph.astream(
                None if resume else cast(AgentState, fresh),
                config,
                context=context,
                stream_mode=["custom", "values"],
                durability=durability(context),
            ):
                event = cast(dict[str, Any], chunk)
                if mode == "custom":
                    await on_delta(event["text"])
                else:
                    state = event
            return state
        except Exception as exc:
            last_error = exc
            log.warning("agent.failed", attempt=attempt, error=type(exc).__name__, exc_info=exc)
    language = detect_language(message.text, default="pt")
    return {
        "classification": {"language": language},
        "passages": [],
        "decision": {
            "action": "escalate",
            "rule": "agent_error",
            "reason": f"the agent failed: {type(last_error).__name__}",
        },
        "reply": say("handoff", language),
        "citations": [],
    }


async def unanswered_messages(services: Services) -> list[uuid.UUID]:
    """Customer messages stored but never handled (the process stopped mid-turn), oldest first.

    A system sweep across tenants, run when the app starts so that no message is left behind.
    """
    async with services.database.sessionmaker() as session:
        rows = await session.scalars(
            select(Message.id)
            .where(Message.direction == Direction.INBOUND, Message.processed.is_(False))
            .order_by(Message.created_at)
        )
        return list(rows)


@dataclass
class _BotTurn:
    result: TurnResult
    outgoing: Outgoing
    ticket_update: dict[str, Any] | None


async def run_turn(services: Services, message_id: uuid.UUID) -> TurnResult:
    """One turn for a stored message: the bot answers or hands off; in human mode it stays silent."""
    async with services.database.sessionmaker.begin() as session:
        message = await session.get_one(Message, message_id)
        # The conversation row lock keeps the turns of one conversation in order.
        conversation = await session.scalar(
            select(Conversation).where(Conversation.id == message.conversation_id).with_for_update()
        )
        assert conversation is not None
        if message.processed:
            return await _stored_result(session, message)
        channel = await session.get_one(Channel, message.channel_id)
        refused = await keep_media(services, channel, message)
        rated = await take_rating(session, message)
        if rated is not None:
            turn = await _thank_for_rating(session, message, conversation, channel, rated)
        elif conversation.mode == ConversationMode.HUMAN:
            return await _leave_to_human(session, message)
        else:
            turn = await _bot_turn(services, session, message, conversation, refused)
    log.info(
        "turn.done", message_id=str(message_id), **{k: turn.result.decision[k] for k in ("action", "rule")}
    )
    await send_outgoing(services, turn.outgoing)
    if turn.ticket_update:
        await notify_inbox(services, turn.outgoing.tenant_id, turn.ticket_update)
    return turn.result


async def _thank_for_rating(
    session: AsyncSession, message: Message, conversation: Conversation, channel: Channel, ticket: Ticket
) -> _BotTurn:
    """The customer scored the closed ticket: kept with it, thanked, and the bot stays out of it."""
    decision = {
        "action": "csat",
        "rule": "csat_rating",
        "reason": f"rated ticket {ticket.protocol} {ticket.csat_rating}/5",
    }
    message.processed, message.decision = True, decision
    contact = await session.get_one(Contact, conversation.contact_id)
    language = detect_language(message.text, default="pt")
    thanks = add_bot_message(
        session, conversation, say("csat_thanks", language), reply_to=message, decision=decision
    )
    await session.flush()
    return _BotTurn(
        result=_result(message, thanks, None),
        outgoing=Outgoing.of(thanks, channel.type, contact.external_id),
        ticket_update=ticket_event(ticket, contact.name or contact.external_id),
    )


async def _leave_to_human(session: AsyncSession, message: Message) -> TurnResult:
    """A human owns the conversation: the message waits for them (the inbox already saw it)."""
    message.processed = True
    message.decision = {"action": "human", "rule": "human_mode", "reason": "a human owns the conversation"}
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    return TurnResult(
        reply=None, escalated=True, ticket_id=str(ticket.id) if ticket else None, message_id=str(message.id)
    )


def _fixed_state(
    message: Message, action: str, rule: str, reason: str, reply_key: str, **values: str
) -> dict[str, Any]:
    """A turn decided without the graph (media the bot cannot read), shaped like the graph's."""
    language = detect_language(message.text, default="pt")
    return {
        "classification": {"language": language},
        "passages": [],
        "decision": {"action": action, "rule": rule, "reason": reason},
        "reply": say(reply_key, language, **values),
        "citations": [],
    }


async def _bot_turn(
    services: Services,
    session: AsyncSession,
    message: Message,
    conversation: Conversation,
    refused: list[Attachment],
) -> _BotTurn:
    """Run the graph, record its decision next to the message, store the reply, open a ticket if needed."""
    tenant = await session.get_one(Tenant, message.tenant_id)
    contact = await session.get_one(Contact, conversation.contact_id)
    channel = await session.get_one(Channel, message.channel_id)
    adapter = services.adapters.get(channel.type)

    async def on_delta(text: str) -> None:
        if isinstance(adapter, StreamingAdapter):
            await adapter.deliver_partial(str(tenant.id), contact.external_id, str(message.id), text)

    if refused:
        reason = refused[0].rejected or ""
        key = "media_too_large" if reason.startswith("larger") else "media_not_accepted"
        limit = f"{services.settings.max_media_mb:g} MB"
        state = _fixed_state(
            message, "respond", "media_refused", f"a file was refused: {reason}", key, limit=limit
        )
    elif not message.text.strip():
        state = _fixed_state(
            message,
            "escalate",
            "media_without_text",
            "the customer sent media the bot cannot read",
            "handoff",
        )
    else:
        await show_typing(services, channel, contact.external_id)
        state = await _run_graph(services, session, tenant, message, on_delta)
    decision = {key: state["decision"][key] for key in ("action", "rule", "reason")}
    usage = state.get("usage") or []
    for call in usage:
        record_usage(session, tenant.id, conversation.id, call)
    message.decision = {
        "classification": state["classification"],
        **state["decision"],
        "passages": state.get("passages", [])[:5],
        **({"usage": usage} if usage else {}),
    }
    message.processed = True
    reply_text: str = state["reply"]
    ticket: Ticket | None = None
    if decision["action"] == "escalate":
        ticket = await open_ticket(session, conversation, decision["reason"], next_ticket_number)
        reply_text += " " + say("protocol", state["classification"]["language"], protocol=ticket.protocol)
    reply = add_bot_message(
        session,
        conversation,
        reply_text,
        reply_to=message,
        citations=state.get("citations"),
        decision=decision,
    )
    await session.flush()
    return _BotTurn(
        result=_result(message, reply, ticket),
        outgoing=Outgoing.of(reply, channel.type, contact.external_id),
        ticket_update=(
            {**ticket_event(ticket, contact.name or contact.external_id), "type": "ticket.created"}
            if ticket
            else None
        ),
    )


def _result(message: Message, reply: Message | None, ticket: Ticket | None) -> TurnResult:
    decision = message.decision or {}
    classification = decision.get("classification", {})
    return TurnResult(
        reply=reply.text if reply else None,
        escalated=decision.get("action") in {"escalate", "human"},
        ticket_id=str(ticket.id) if ticket else None,
        citations=[
            {k: c[k] for k in ("document", "chunk_id", "score")} for c in (reply.citations if reply else [])
        ],
        classification={k: classification.get(k) for k in ("sentiment", "intent", "churn_risk")},
        decision={k: decision.get(k) for k in ("action", "rule", "reason")},
        message_id=str(message.id),
        reply_message_id=str(reply.id) if reply else None,
    )


async def _stored_result(session: AsyncSession, message: Message) -> TurnResult:
    """The result of a turn that already ran: a retried job must not answer twice."""
    reply = await session.scalar(select(Message).where(Message.reply_to_id == message.id))
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    return _result(message, reply, ticket)
