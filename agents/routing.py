"""Edge functions: pure, typed by the nodes they lead to."""

from __future__ import annotations

from typing import Literal

from agents.state import AgentState


def after_decide(state: AgentState) -> Literal["respond", "escalate"]:
    return "escalate" if state["decision"]["action"] == "escalate" else "respond"
