"""A customer message's turn: the bot answers or hands off, a human's conversation is left to them, a
rating is thanked; the reply is stored and handed on once the bot's decision is made
(``conversations.bot_decision``) and the turn still holds the conversation."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass

import msgspec
import structlog
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from agents.record import DecisionRecord
from agents.replies import say
from agents.usage import record_usage
from channels.base import Attachment
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
from conversations.bot_decision import Decided, Party, decide
from conversations.media import keep_media
from conversations.notify import Outgoing, notify_inbox, send_outgoing
from conversations.services import Services
from conversations.spans import note_turn_tenant, traced_turn
from conversations.turn_lease import TurnLease, conversation_turns
from conversations.turn_result import TurnResult, result_of, stored_result
from core.accounts import Tenant, next_ticket_number
from core.metrics import TURN_SECONDS, TURNS
from handoff.csat import take_rating
from handoff.events import InboxEvent, message_created, ticket_created, ticket_updated
from handoff.models import Ticket
from handoff.service import active_ticket, open_ticket
from knowledge.language import detect_language

__all__ = ["TurnResult", "run_turn"]

log = structlog.get_logger(__name__)


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
    async with services.database.reads() as session:
        message = await session.get_one(Message, message_id)
        conversation_id = message.conversation_id
        earlier = await _waiting_before(session, message)
    async with conversation_turns(services.database, conversation_id) as lease:
        for waiting_id in earlier:
            await _turn(services, lease, waiting_id, None)
        return await _turn(services, lease, message_id, None)


async def escalate_turn(services: Services, message_id: uuid.UUID, reason: str) -> TurnResult:
    """The message's turn failed on every try: it goes to a human as when the agent fails (a ticket,
    the customer told so), unless it was answered meanwhile or a human already owns the conversation."""
    async with services.database.sessionmaker() as session:
        conversation_id = (await session.get_one(Message, message_id)).conversation_id
    async with conversation_turns(services.database, conversation_id) as lease:
        return await _turn(services, lease, message_id, reason)


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


@traced_turn
async def _turn(
    services: Services, lease: TurnLease, message_id: uuid.UUID, gave_up: str | None
) -> TurnResult:
    """One message's turn, timed and counted by what came of it (``core.metrics``); a message another
    turn handled already gets that turn's result, and is not counted again. ``gave_up``: why the turn's
    job failed for good, to hand the message off without the agent."""
    async with services.database.reads() as session:
        message = await session.get_one(Message, message_id)
        note_turn_tenant(message.tenant_id)
        if message.processed:
            return await stored_result(session, message)
        channel = await session.get_one(Channel, message.channel_id)
    started = time.perf_counter()
    try:
        result = await _answer(services, lease, message, channel, gave_up)
    except Exception:
        _count("failed", started)
        raise
    if result is None:  # handled by another turn while this one read the media
        async with services.database.sessionmaker() as session:
            return await stored_result(session, await session.get_one(Message, message_id))
    _count(result.outcome, started)
    return result


def _count(outcome: str, started: float) -> None:
    TURNS.labels(outcome).inc()
    TURN_SECONDS.labels(outcome).observe(time.perf_counter() - started)


async def _answer(
    services: Services, lease: TurnLease, message: Message, channel: Channel, gave_up: str | None
) -> TurnResult | None:
    refused = [] if gave_up else await keep_media(services, channel, message)
    async with services.database.sessionmaker.begin() as session:
        conversation = await _held_conversation(session, lease)
        stored = await session.get_one(Message, message.id)
        if stored.processed:
            return None
        stored.content = message.content
        rated = await take_rating(session, stored)
        if rated is None and conversation.mode == ConversationMode.HUMAN:
            return await _leave_to_human(session, stored)
        # Who the bot answers, read here with the message: the bot's turn opens no session to ask.
        contact = await session.get_one(Contact, conversation.contact_id)
        party = Party(await session.get_one(Tenant, stored.tenant_id), contact, channel)
        thanked = await _thank_for_rating(session, stored, conversation, party, rated) if rated else None
    turn = thanked or await _bot_turn(services, lease, stored, party, refused, gave_up)
    decided = turn.result.decision
    log.info("turn.done", message_id=str(message.id), action=decided.action, rule=decided.rule)
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
    session: AsyncSession, message: Message, conversation: Conversation, party: Party, ticket: Ticket
) -> _BotTurn:
    """The customer scored the closed ticket: kept with it, thanked, and the bot stays out of it."""
    decision = DecisionRecord(
        action="csat", rule="csat_rating", reason=f"rated ticket {ticket.protocol} {ticket.csat_rating}/5"
    ).as_json()
    message.processed, message.decision = True, decision
    language = detect_language(message.text, default="pt")
    thanks = add_bot_message(
        session, conversation, say("csat_thanks", language), reply_to=message, decision=decision
    )
    await session.flush()
    contact = party.contact
    return _BotTurn(
        result=result_of(message, thanks, None),
        outgoing=Outgoing.of(thanks, party.channel.type, contact.external_id),
        inbox_update=ticket_updated(ticket, contact.name or contact.external_id),
    )


async def _leave_to_human(session: AsyncSession, message: Message) -> TurnResult:
    """A human owns the conversation: the message waits for them (the inbox already saw it)."""
    message.processed = True
    message.decision = DecisionRecord(
        action="human", rule="human_mode", reason="a human owns the conversation"
    ).as_json()
    ticket = await active_ticket(session, message.tenant_id, message.conversation_id)
    return result_of(message, None, ticket)


async def _bot_turn(
    services: Services,
    lease: TurnLease,
    message: Message,
    party: Party,
    refused: list[Attachment],
    gave_up: str | None,
) -> _BotTurn:
    """Decide with no session open, then store the decision, the reply and any ticket in one short
    transaction, if the bot still owns the conversation by then. ``party`` was read with the message."""
    decided = (
        Decided.without_graph(message, "escalate", "job_failed", gave_up, "handoff")
        if gave_up
        else await decide(services, party, message, refused)
    )
    async with services.database.sessionmaker.begin() as session:
        conversation = await _held_conversation(session, lease)
        stored = await session.get_one(Message, message.id)
        if conversation.mode != ConversationMode.BOT:
            return await _suppress(session, stored, conversation, decided)
        return await _store_reply(session, stored, conversation, party, decided)


def _keep_decision(
    session: AsyncSession, message: Message, conversation: Conversation, record: DecisionRecord
) -> None:
    for call in record.usage:
        record_usage(session, message.tenant_id, conversation.id, call)
    message.decision = record.as_json()
    message.processed = True


async def _store_reply(
    session: AsyncSession, message: Message, conversation: Conversation, party: Party, decided: Decided
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
        result=result_of(message, reply, ticket),
        outgoing=Outgoing.of(reply, party.channel.type, contact.external_id),
        inbox_update=ticket_created(ticket, contact.name or contact.external_id) if ticket else None,
    )


async def _suppress(
    session: AsyncSession, message: Message, conversation: Conversation, decided: Decided
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
    result = msgspec.structs.replace(result_of(message, reply, ticket), reply=None, citations=[])
    return _BotTurn(result=result, outgoing=None, inbox_update=message_created(reply))
