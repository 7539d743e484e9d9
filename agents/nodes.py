"""Graph nodes. Each returns a partial state update and is safe to re-run on resume."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.answerer import extractive_answer
from agents.classifiers import classify as classify_text
from agents.context import AgentContext
from agents.replies import say
from agents.state import AgentState
from knowledge.search import Passage

SMALL_TALK = {"greeting", "thanks"}


async def classify(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    result = classify_text(state["text"], state.get("sentiments", []))
    return {"classification": result.as_dict(), "sentiments": [result.sentiment_score]}


async def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    if state["classification"]["intent"] in {*SMALL_TALK, "human_agent"}:
        return {"passages": []}
    passages = await runtime.context.search(state["text"])
    ranked = sorted(passages, key=lambda passage: passage.relevance, reverse=True)
    return {"passages": [{**p.as_dict(), "relevance": round(p.relevance, 4)} for p in ranked]}


def _decision(action: str, rule: str, reason: str) -> dict[str, Any]:
    return {"decision": {"action": action, "rule": rule, "reason": reason}}


async def decide(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """The escalation rules, in order; the first that fires names itself in the decision record."""
    context = runtime.context
    classification = state["classification"]
    if classification["intent"] == "human_agent":
        return _decision("escalate", "customer_asked_for_human", "the customer asked to talk to a person")
    if classification["sentiment_score"] <= context.angry_sentiment:
        return _decision(
            "escalate",
            "customer_very_angry",
            f"sentiment {classification['sentiment_score']} is at or below {context.angry_sentiment}",
        )
    if classification["intent"] in SMALL_TALK:
        return _decision("respond", "small_talk", f"the message is a {classification['intent']}")
    passages = state.get("passages", [])
    best = passages[0]["relevance"] if passages else 0.0
    if best < context.min_relevance:
        return _decision(
            "escalate",
            "no_relevant_passage",
            f"best passage relevance {best:.2f} is below {context.min_relevance:.2f}",
        )
    return _decision("respond", "grounded_answer", f"best passage relevance {best:.2f}")


async def respond(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    language = state["classification"]["language"]
    if state["decision"]["rule"] == "small_talk":
        return {"reply": say(state["classification"]["intent"], language), "citations": []}
    passages = [
        Passage(**{k: v for k, v in p.items() if k != "relevance"})
        for p in state["passages"]
        if p["relevance"] >= runtime.context.min_relevance
    ]
    answer = await extractive_answer(state["text"], passages, runtime.context.embedder)
    citations = [
        {
            "document": p.document,
            "chunk_id": p.chunk_id,
            "score": round(p.relevance, 4),
            "title": p.title,
            "heading_path": p.heading_path,
            "page": p.page,
        }
        for p in answer.passages
    ]
    return {"reply": answer.text, "citations": citations}


async def escalate(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    return {"reply": say("handoff", state["classification"]["language"]), "citations": []}
