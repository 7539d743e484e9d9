"""Checkpoints load in the state's types, whichever Atende version wrote them.

Before the state was typed it held dicts: a turn cut off then must resume with this version, and
the decision record it leaves must have the same JSON.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, TypedDict

import pytest
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
from langgraph.checkpoint.serde.event_hooks import SerdeEvent, register_serde_event_listener
from langgraph.graph import END, START, StateGraph
from structlog.testing import capture_logs

from agents.checkpoint import AgentCheckpointer
from agents.classifiers import Classification
from agents.llm import UsageRecord
from agents.state import Citation, Decision
from agents.tenant_context import build_agent_context
from channels.base import InboundMessage
from channels.models import Message
from conversations.receive import accept_on_default_channel
from conversations.services import Services
from conversations.turn import run_turn
from core.accounts import Tenant
from knowledge.passages import Passage
from tests.agents.turns import agent_turn
from tests.conftest import MakeTenant

QUESTION = "Como tiro a segunda via do boleto?"
OLD_REASONS = ["written by the version before typed state"]
"""No classifier says this: if it reaches the record, the resumed turn did not classify again."""


def _old_usage(
    previous: list[dict[str, Any]] | None, new: list[dict[str, Any]] | None
) -> list[dict[str, Any]]:
    return [] if new is None else [*(previous or []), *new]


class _OldState(TypedDict, total=False):
    """``agents.state.AgentState`` as it was: dicts."""

    text: str
    message_id: str
    classification: dict[str, Any]
    passages: list[dict[str, Any]]
    decision: dict[str, Any]
    reply: str | None
    citations: list[dict[str, Any]]
    bot_turns: int
    usage: Annotated[list[dict[str, Any]], _old_usage]


async def _old_values(services: Services, tenant: Tenant) -> dict[str, Any]:
    """What the old classify, retrieve and decide nodes wrote for QUESTION, in their shapes."""
    async with services.database.sessionmaker() as session:
        context = await build_agent_context(services, session, tenant)
        vector = await context.vector(QUESTION)
        found = await context.search(QUESTION, vector)
    classification = context.classifier.classify(QUESTION, vector).as_dict() | {"churn_reasons": OLD_REASONS}
    ranked = sorted(found, key=lambda p: p.relevance, reverse=True)
    return {
        "classification": classification,
        "passages": [{**p.as_dict(), "relevance": round(p.relevance, 4)} for p in ranked],
        "decision": {"action": "respond", "rule": "grounded_answer", "reason": "best passage relevance 0.80"},
        "usage": [
            {
                "provider": "openai",
                "model": "gpt-4o-mini",
                "input_tokens": 120,
                "output_tokens": 9,
                "cost_usd": 0.00002,
                "purpose": "classify",
            }
        ],
    }


async def _cut_off_before_respond(
    services: Services, tenant: Tenant, thread: str, message_id: str
) -> tuple[AsyncPostgresSaver, dict[str, Any]]:
    """The old graph, on the plain checkpointer the old code used, dies in ``respond`` (a worker
    killed while the model writes): its checkpoint after ``decide`` is left, dicts and all."""
    values = await _old_values(services, tenant)

    def respond(state: _OldState) -> _OldState:
        raise RuntimeError("the worker died")

    builder = StateGraph(_OldState)
    builder.add_node(
        "classify", lambda state: {"classification": values["classification"], "usage": values["usage"]}
    )
    builder.add_node("retrieve", lambda state: {"passages": values["passages"]})
    builder.add_node("decide", lambda state: {"decision": values["decision"]})
    builder.add_node("respond", respond)
    builder.add_node("escalate", lambda state: {})

    def after_decide(state: _OldState) -> str:
        return "escalate" if state["decision"]["action"] == "escalate" else "respond"

    def after_respond(state: _OldState) -> str:
        return "escalate" if state["decision"]["action"] == "escalate" else END

    builder.add_edge(START, "classify")
    builder.add_edge("classify", "retrieve")
    builder.add_edge("retrieve", "decide")
    builder.add_conditional_edges("decide", after_decide, ["respond", "escalate"])
    builder.add_conditional_edges("respond", after_respond, ["escalate", END])
    builder.add_edge("escalate", END)
    checkpointer = services.graph.checkpointer
    assert isinstance(checkpointer, AgentCheckpointer)
    plain = AsyncPostgresSaver(checkpointer.conn)
    old = builder.compile(checkpointer=plain)
    config: RunnableConfig = {"configurable": {"thread_id": thread}}
    with pytest.raises(RuntimeError, match="the worker died"):
        await old.ainvoke(
            {"text": QUESTION, "message_id": message_id, "usage": None}, config, durability="sync"
        )
    stored = await plain.aget_tuple(config)
    assert stored is not None and isinstance(stored.checkpoint["channel_values"]["decision"], dict)
    return plain, values


async def test_a_turn_cut_off_under_the_old_dict_state_resumes_and_records_the_same_json(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    message_id, _ = await accept_on_default_channel(
        services, tenant, "webchat", InboundMessage("s", QUESTION, "m1")
    )
    async with services.database.sessionmaker() as session:
        conversation_id = (await session.get_one(Message, message_id)).conversation_id
    thread = str(conversation_id)
    _, old = await _cut_off_before_respond(services, tenant, thread, str(message_id))

    snapshot = await services.graph.aget_state({"configurable": {"thread_id": thread}})
    assert snapshot.next == ("respond",)
    assert isinstance(snapshot.values["classification"], Classification)
    assert snapshot.values["classification"].churn_reasons == OLD_REASONS
    assert all(isinstance(p, Passage) for p in snapshot.values["passages"])
    assert snapshot.values["decision"] == Decision(
        "respond", "grounded_answer", "best passage relevance 0.80"
    )
    assert snapshot.values["usage"] == [UsageRecord("openai", "gpt-4o-mini", 120, 9, 0.00002, "classify")]

    with capture_logs() as logs:
        result = await run_turn(services, message_id)
    assert any(entry["event"] == "agent.resumed" for entry in logs)
    assert result.decision.rule == "grounded_answer"
    assert result.citations[0].document == "segunda-via-boleto.md"
    assert result.reply

    async with services.database.sessionmaker() as session:
        record = (await session.get_one(Message, message_id)).decision
    assert record == {
        "classification": old["classification"],
        **old["decision"],
        "passages": old["passages"][:5],
        "usage": old["usage"],
    }


async def test_old_pending_writes_load_typed(services: Services, make_tenant: MakeTenant) -> None:
    """A node's writes saved before its step's checkpoint (a crash in between) are typed too."""
    tenant = await make_tenant()
    thread = f"old-writes-{uuid.uuid4()}"
    plain, _ = await _cut_off_before_respond(services, tenant, thread, str(uuid.uuid4()))
    stored = await plain.aget_tuple({"configurable": {"thread_id": thread}})
    assert stored is not None
    cited = {
        "document": "segunda-via-boleto.md",
        "chunk_id": "c1",
        "score": 0.8123,
        "title": "Segunda via",
        "heading_path": "Boleto",
        "page": None,
    }
    await plain.aput_writes(stored.config, [("citations", [cited]), ("reply", "Acesse o app.")], "task-1")

    checkpointer = services.graph.checkpointer
    assert isinstance(checkpointer, AgentCheckpointer)
    loaded = await checkpointer.aget_tuple(stored.config)
    assert loaded is not None
    writes = {channel: value for _, channel, value in loaded.pending_writes or []}
    assert writes["citations"] == [Citation(**cited)]
    assert writes["reply"] == "Acesse o app."


async def test_the_typed_state_round_trips_without_unregistered_types(
    services: Services, make_tenant: MakeTenant
) -> None:
    """The serializer rebuilds the state's own types by name: no "unregistered type" warnings, and
    nothing comes back as a bare dict."""
    events: list[SerdeEvent] = []
    unregister = register_serde_event_listener(events.append)
    try:
        thread = str(uuid.uuid4())
        await agent_turn(services, await make_tenant(), QUESTION, thread=thread)
        snapshot = await services.graph.aget_state({"configurable": {"thread_id": thread}})
    finally:
        unregister()
    assert events == []
    values = snapshot.values
    assert isinstance(values["classification"], Classification)
    assert isinstance(values["decision"], Decision)
    assert values["passages"] and all(isinstance(p, Passage) for p in values["passages"])
    assert values["citations"] and all(isinstance(c, Citation) for c in values["citations"])
