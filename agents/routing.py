"""Edge functions: pure, typed by the nodes they lead to."""

from __future__ import annotations

from typing import Literal

from agents.state import AgentState


def after_decide(state: AgentState) -> Literal["respond", "escalate"]:
    return "escalate" if state["decision"].action == "escalate" else "respond"


def after_respond(state: AgentState) -> Literal["escalate", "__end__"]:
    """The model may find, while answering, that the passages do not answer: then a human does.

    ``"__end__"`` is LangGraph's END.
    """
    return "escalate" if state["decision"].action == "escalate" else "__end__"
