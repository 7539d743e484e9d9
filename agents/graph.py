"""Wires the nodes: classify → retrieve → decide → respond | escalate (respond may still escalate), each
in its trace span (``agents.node_spans``)."""

from __future__ import annotations

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Durability

from agents import nodes
from agents.context import AgentContext
from agents.node_spans import traced
from agents.routing import after_decide, after_respond
from agents.state import AgentState

AgentGraph = CompiledStateGraph[AgentState, AgentContext, AgentState, AgentState]


def build_graph(checkpointer: BaseCheckpointSaver[str] | None = None) -> AgentGraph:
    builder = StateGraph(AgentState, context_schema=AgentContext)
    builder.add_node("classify", traced(nodes.classify))
    builder.add_node("retrieve", traced(nodes.retrieve))
    builder.add_node("decide", traced(nodes.decide))
    builder.add_node("respond", traced(nodes.respond))
    builder.add_node("escalate", traced(nodes.escalate))
    builder.add_edge(START, "classify")
    builder.add_edge("classify", "retrieve")
    builder.add_edge("retrieve", "decide")
    builder.add_conditional_edges("decide", after_decide)
    builder.add_conditional_edges("respond", after_respond)
    builder.add_edge("escalate", END)
    return builder.compile(checkpointer=checkpointer, name="atende-agent")


def durability(context: AgentContext) -> Durability:
    """Checkpoint after every node only when a node's work is worth keeping across a crash.

    With an LLM, a resumed turn must not pay for (or wait on) a generation twice, so each step is
    saved. Offline every node is cheap and deterministic: the state is saved once, when the turn
    ends, and a turn cut off mid-way simply runs again (the reply is stored in the same transaction
    that marks the message processed, so the customer still gets exactly one).
    """
    return "async" if context.llm is not None else "exit"
