"""The inbound pipeline: store the customer's message once, then let the agent or a human answer it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, TypeVar, cast

import msgspec
import structlog
from langchain_core.runnables import RunnableConfig
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from agents.graph import durability
from agents.record import ClassificationView, DecisionRecord
from agents.replies import say
from agents.state import AgentState, Citation
from agents.usage import record_usage
from channels.base import Attachment, StreamingAdapter
from channels.models import (
    Channel,
    Contact,
    Conversation,
    ConversationMode,
    DeliveryStatus,
    Direction,
    Message,
)
from channels.service import add_bot_message
from conversations.history import build_turn_context
from conversations.media import keep_media
from conversations.notify import Outgoing, notify_inbox, send_outgoing
from conversations.services import Services
from conversations.turn_lease import BotOwnership, TurnLease, conversation_turns
from conversations.typing import show_typing
from core.accounts import Tenant, next_ticket_number
from handoff.csat import take_rating
from handoff.events import InboxEvent, message_created, ticket_created, ticket_updated
from handoff.models import Ticket
from handoff.service import active_ticket, open_ticket
from knowledge.language import detect_language

log = structlog.get_logger(__name__)

GRAPH_ATTEMPTS = 3
Delta = Callable[[str], Awaitable[None]]


T = TypeVar("T")


def _known(value: T | msgspec.UnsetType) -> T | None:
    return None if isinstance(value, msgspec.UnsetType) else value


class CitedSource(msgspec.Struct):
    document: str
    chunk_id: str
    score: float


class ClassificationSummary(msgspec.Struct):
    """None where the turn had no classifier (media, the agent failing, a human or a rating)."""

    sentiment: str | None = None
    intent: str | None = None
    churn_risk: float | None = None

    @classmethod
    def of(cls, seen: ClassificationView | None) -> ClassificationSummary:
        if seen is None:
            return cls()
        return cls(_known(seen.sentiment), _known(seen.intent), _known(seen.churn_risk))


class TurnResult(msgspec.Struct, kw_only=True):
    """What one customer message led to; ``atende chat --json`` prints it."""

    reply: str | None
    escalated: bool
    ticket_id: str | None
    citations: list[CitedSource] = []
    classification: ClassificationSummary = msgspec.field(default_factory=ClassificationSummary)
    decision: DecisionRecord
    """Action, rule and reason."""
    message_id: str | None = None
    reply_message_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return cast(dict[str, Any], msgspec.to_builtins(self))


@dataclass(frozen=True)
class _Decided:
    """What the bot decided for a message, by the graph or without it."""

    record: DecisionRecord
    reply: str
    citations: list[Citation]
    language: str

    @classmethod
    def of_graph(cls, state: AgentState) -> _Decided:
        classification = state["classification"]
        record = DecisionRecord.of_turn(
            state["decision"],
            ClassificationView.of(classification),
            state.get("passages", []),
            state.get("usage") or [],
        )
        return cls(record, state.get("reply") or "", state.get("citations", []), classification.language)

    @classmethod
    def without_graph(
        cls, message: Message, action: str, rule: str, reason: str, reply_key: str, **values: str
    ) -> _Decided:
        """Media the bot cannot read, or the agent failing: no classifier, no passages."""
        language = detect_language(message.text, default="pt")
        record = DecisionRecord(
            classification=ClassificationView(language=language),
            action=action,
            rule=rule,
            reason=reason,
            passages=[],
        )
        return cls(record, say(reply_key, language, **values), [], language)


async def _run_graph(services: Services, tenant: Tenant, message: Message, on_delta: Delta) -> _Decided:
    """The graph, retried; a failure that survives the retries is a reason to hand off, never a drop.

    No session is open while it runs: the context is read in a short one, and each search opens its
    own, so a turn waiting on an LLM holds no connection. A run cut off mid-turn (a worker died, a node
    failed) is resumed from its last checkpoint rather than started again, so the nodes that finished
    are not run twice.
    """
    config: RunnableConfig = {"configurable": {"thread_id": str(message.conversation_id)}}
    last_error: Exception | None = None
    for attempt in range(1, GRAPH_ATTEMPTS + 1):
        try:
            async with services.database.sessionmaker() as session:
                context = await build_turn_context(services, session, tenant, message)
            snapshot = await services.graph.aget_state(config)
            resume = bool(snapshot.next) and snapshot.values.get("message_id") == str(message.id)
            if resume:
                log.info("agent.resumed", message_id=str(message.id), next=list(snapshot.next))
            # "usage": None starts the turn's LLM usage afresh (see agents.state.turn_usage).
            fresh = cast(AgentState, {"text": message.text, "message_id": str(message.id), "usage": None})
            state: AgentState = {}
            async for mode, chunk in services.graph.astream(
                None if resume else fresh,
                config,
                context=context,
                stream_mode=["custom", "values"],
                durability=durability(context),
            ):
                if mode == "custom":
                    await on_delta(cast(dict[str, str], chunk)["text"])
                else:
                    state = cast(AgentState, chunk)
            return _Decided.of_graph(state)
        except Exception as exc:
            last_error = exc
            log.warning("agent.failed", attempt=attempt, error=type(exc).__name__, exc_info=exc)
    reason = f"the agent failed: {type(last_error).__name__}"
    return _Decided.without_graph(message, "escalate", "agent_error", reason, "handoff")


@dataclass
class _BotTurn:
    result: TurnResult
    outgoing: Outgoing | None
    """None when nothing goes to the customer: the reply was suppressed."""
    inbox_update: InboxEvent | None


async def run_turn(services: Services, message_id: uuid.UUID) -> TurnResult:
    """One turn for a stored message: the bot answers or hands off; in human mode it stays silent.

    The turns of a conversation run one at a time and in order (``conversation_turns``), so a message
    still waiting from before this one is answered first, and a message that arrives meanwhile waits
    for the next turn. Nothing is locked while the bot waits on a model or a channel.
    """
    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, message_id)
        conversation_id = message.conversation_id
        earlier = await _waiting_before(session, message)
    async with conversation_turns(services.database, conversation_id) as lease:
        for waiting_id in earlier:
            await _turn(services, lease, waiting_id)
        return await _turn(services, lease, message_id)


async def escalate_turn(services: Services, message_id: uuid.UUID, reason: str) -> TurnResult:
    """The message's turn failed on every try: it goes to a human as when the agent fails (a ticket,
    the customer told so), unless it was answered meanwhile or a human already owns the conversation."""
    async with services.database.sessionmaker() as session:
        conversation_id = (await session.get_one(Message, message_id)).conversation_id
    async with conversation_turns(services.database, conversation_id) as lease:
        return await _turn(services, lease, message_id, gave_up=reason)


async def _waiting_before(session: AsyncSession, message: Message) -> list[uuid.UUID]:
    """The conversation's customer messages older than ``message`` that no turn has handled yet."""
    return list(
        await session.scalars(
            select(Message.id)
            .where(
                Message.tenant_id == message.tenant_id,
                Message.conversation_id == message.conversation_id,
                Message.direction == Direction.INBOUND,
                Message.processed.is_(False),
                tuple_(Message.created_at, Message.id) < tuple_(message.created_at, message.id),
            )
            .order_by(Message.created_at, Message.id)
        )
    )


async def _turn(
    services: Services, lease: TurnLease, message_id: uuid.UUID, gave_up: str | None = None
) -> TurnResult:
    """``gave_up``: why the turn's job failed for good, to hand the message off without the agent."""
    async with services.database.sessionmaker() as session:
        message = await session.get_one(Message, message_id)
        if message.processed:
            return await _stored_result(session, message)
        channel = await session.get_one(Channel, message.channel_id)
    refused = [] if gave_up else await keep_media(services, channel, message)
    async with services.database.sessionmaker.begin() as session:
        conversation = await _held_conversation(session, lease)
        stored = await session.get_one(Message, message_id)
        if stored.processed:
            return await _stored_result(session, stored)
        stored.content = message.content
        rated = await take_rating(session, stored)
        if rated is None and conversation.mode == ConversationMode.HUMAN:
            return await _leave_to_human(session, stored)
        thanked = await _thank_for_rating(session, stored, conversation, channel, rated) if rated else None
    turn = thanked or await _bot_turn(services, lease, stored, refused, gave_up)
    decided = turn.result.decision
    log.info("turn.done", message_id=str(message_id), action=decided.action, rule=decided.rule)
    if turn.outgoing:
        await send_outgoing(services, turn.outgoing)
    if turn.inbox_update:
        await notify_inbox(services, message.tenant_id, turn.inbox_update)
    return turn.result


async def _held_conversation(session: AsyncSession, lease: TurnLease) -> Conversation:
    """The conversation, locked until the transaction ends, once the turn proves it still holds it."""
    conversation = await session.scalar(
        select(Conversation).where(Conversation.id == lease.conversation_id).with_for_update()
    )
    assert conversation is not None
    lease.still_held(conversation)
    return conversation


async def _thank_for_rating(
    session: AsyncSession, message: Message, conversation: Conversation, channel: Channel, ticket: Ticket
) -> _BotTurn:
    """The customer scored the closed ticket: kept with it, thanked, and the bot stays out of it."""
    decision = DecisionRecord(
        action="csat", rule="csat_rating", reason=f"rated ticket {ticket.protocol} {ticket.csat_rating}/5"
    ).as_json()
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
        inbox_update=ticket_updated(ticket, contact.name or contact.external_id),
    )


async def _leave_to_human(session: AsyncSession, message: Message) -> TurnResult:
    """A human owns the conversation: the message waits for them (the inbox already saw it)."""
    message.processed = True
    message.decision = DecisionRecord(
        action="human", rule="human_mode", reason="a human owns the conversation"
    ).as_json()
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    return _result(message, None, ticket)


@dataclass(frozen=True)
class _Party:
    """Who the turn is for, read before the bot starts: the objects outlive their short session."""

    tenant: Tenant
    contact: Contact
    channel: Channel


async def _bot_turn(
    services: Services, lease: TurnLease, message: Message, refused: list[Attachment], gave_up: str | None
) -> _BotTurn:
    """Decide with no session open, then store the decision, the reply and any ticket in one short
    transaction, if the bot still owns the conversation by then."""
    async with services.database.sessionmaker() as session:
        conversation = await session.get_one(Conversation, message.conversation_id)
        party = _Party(
            tenant=await session.get_one(Tenant, message.tenant_id),
            contact=await session.get_one(Contact, conversation.contact_id),
            channel=await session.get_one(Channel, message.channel_id),
        )
    decided = (
        _Decided.without_graph(message, "escalate", "job_failed", gave_up, "handoff")
        if gave_up
        else await _decide(services, party, message, refused)
    )
    async with services.database.sessionmaker.begin() as session:
        conversation = await _held_conversation(session, lease)
        stored = await session.get_one(Message, message.id)
        if conversation.mode != ConversationMode.BOT:
            return await _suppress(session, stored, conversation, decided)
        return await _store_reply(session, stored, conversation, party, decided)


async def _decide(services: Services, party: _Party, message: Message, refused: list[Attachment]) -> _Decided:
    adapter = services.adapters.get(party.channel.type)
    owner = BotOwnership(services.database, message.conversation_id)

    async def on_delta(text: str) -> None:
        if isinstance(adapter, StreamingAdapter) and await owner.still_bot():
            await adapter.deliver_partial(
                str(party.tenant.id), party.contact.external_id, str(message.id), text
            )

    if refused:
        reason = refused[0].rejected or ""
        key = "media_too_large" if reason.startswith("larger") else "media_not_accepted"
        limit = f"{services.settings.max_media_mb:g} MB"
        return _Decided.without_graph(
            message, "respond", "media_refused", f"a file was refused: {reason}", key, limit=limit
        )
    if not message.text.strip():
        return _Decided.without_graph(
            message,
            "escalate",
            "media_without_text",
            "the customer sent media the bot cannot read",
            "handoff",
        )
    await show_typing(services, party.channel, party.contact.external_id)
    return await _run_graph(services, party.tenant, message, on_delta)


def _keep_decision(
    session: AsyncSession, message: Message, conversation: Conversation, record: DecisionRecord
) -> None:
    for call in record.usage:
        record_usage(session, message.tenant_id, conversation.id, call)
    message.decision = record.as_json()
    message.processed = True


async def _store_reply(
    session: AsyncSession, message: Message, conversation: Conversation, party: _Party, decided: _Decided
) -> _BotTurn:
    record = decided.record
    _keep_decision(session, message, conversation, record)
    reply_text = decided.reply
    ticket: Ticket | None = None
    if record.action == "escalate":
        ticket = await open_ticket(session, conversation, record.reason, next_ticket_number)
        reply_text += " " + say("protocol", decided.language, protocol=ticket.protocol)
    reply = add_bot_message(
        session,
        conversation,
        reply_text,
        reply_to=message,
        citations=[asdict(c) for c in decided.citations],
        decision=record.verdict().as_json(),
    )
    await session.flush()
    contact = party.contact
    return _BotTurn(
        result=_result(message, reply, ticket),
        outgoing=Outgoing.of(reply, party.channel.type, contact.external_id),
        inbox_update=ticket_created(ticket, contact.name or contact.external_id) if ticket else None,
    )


async def _suppress(
    session: AsyncSession, message: Message, conversation: Conversation, decided: _Decided
) -> _BotTurn:
    """A human took the conversation while the bot was writing: the reply is kept for the inbox and the
    decision record, marked suppressed, and never sent."""
    record = msgspec.structs.replace(decided.record, suppressed="a human took the conversation first")
    _keep_decision(session, message, conversation, record)
    reply = add_bot_message(
        session,
        conversation,
        decided.reply,
        reply_to=message,
        citations=[asdict(c) for c in decided.citations],
        decision=record.verdict().as_json(),
    )
    reply.delivery_status = DeliveryStatus.SUPPRESSED
    await session.flush()
    log.info("turn.suppressed", message_id=str(message.id))
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    result = msgspec.structs.replace(_result(message, reply, ticket), reply=None, citations=[])
    return _BotTurn(result=result, outgoing=None, inbox_update=message_created(reply))


def _result(message: Message, reply: Message | None, ticket: Ticket | None) -> TurnResult:
    """From the records kept, so a retried job gets the result the first run gave."""
    record = DecisionRecord.from_json(message.decision)
    return TurnResult(
        reply=reply.text if reply else None,
        escalated=record.action in {"escalate", "human"},
        ticket_id=str(ticket.id) if ticket else None,
        citations=[msgspec.convert(c, CitedSource) for c in (reply.citations if reply else [])],
        classification=ClassificationSummary.of(record.classification),
        decision=record.verdict(),
        message_id=str(message.id),
        reply_message_id=str(reply.id) if reply else None,
    )


async def _stored_result(session: AsyncSession, message: Message) -> TurnResult:
    """The result of a turn that already ran: a retried job must not answer twice."""
    reply = await session.scalar(select(Message).where(Message.reply_to_id == message.id))
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    return _result(message, reply, ticket)
