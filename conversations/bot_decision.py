"""The bot's decision for one customer message: the graph (retried, resumed from its checkpoint), or a
decision without it (media it cannot read, the agent failing). It runs with no session open."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import structlog
from langchain_core.runnables import RunnableConfig

from agents.generation import Delta
from agents.graph import durability
from agents.record import ClassificationView, DecisionRecord
from agents.replies import say
from agents.state import AgentState, Citation
from channels.base import Attachment, StreamingAdapter
from channels.models import Channel, Contact, Message
from conversations.history import build_turn_context
from conversations.services import Services
from conversations.turn_lease import BotOwnership
from conversations.typing import show_typing
from core.accounts import Tenant
from knowledge.language import detect_language

log = structlog.get_logger(__name__)

GRAPH_ATTEMPTS = 3


@dataclass(frozen=True)
class Decided:
    """What the bot decided for a message, by the graph or without it."""

    record: DecisionRecord
    reply: str
    citations: list[Citation]
    language: str

    @classmethod
    def of_graph(cls, state: AgentState) -> Decided:
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
    ) -> Decided:
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


@dataclass(frozen=True)
class Party:
    """Who the turn is for, read before the bot starts: the objects outlive their short session."""

    tenant: Tenant
    contact: Contact
    channel: Channel


async def decide(services: Services, party: Party, message: Message, refused: list[Attachment]) -> Decided:
    """The decision for ``message``; its reply streams to channels that show it as it is written, while
    the bot still owns the conversation."""
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
        return Decided.without_graph(
            message, "respond", "media_refused", f"a file was refused: {reason}", key, limit=limit
        )
    if not message.text.strip():
        return Decided.without_graph(
            message,
            "escalate",
            "media_without_text",
            "the customer sent media the bot cannot read",
            "handoff",
        )
    await show_typing(services, party.channel, party.contact.external_id)
    return await run_graph(services, party.tenant, message, on_delta)


async def run_graph(services: Services, tenant: Tenant, message: Message, on_delta: Delta) -> Decided:
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
            async with services.database.reads() as session:
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
            return Decided.of_graph(state)
        except Exception as exc:
            last_error = exc
            log.warning("agent.failed", attempt=attempt, error=type(exc).__name__, exc_info=exc)
    reason = f"the agent failed: {type(last_error).__name__}"
    return Decided.without_graph(message, "escalate", "agent_error", reason, "handoff")
