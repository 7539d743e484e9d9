"""Graph nodes. Each returns a partial state update and is safe to re-run on resume."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from agents.answerer import extractive_answer
from agents.context import AgentContext
from agents.generation import generate_grounded
from agents.guardrails import looks_like_injection, new_canary
from agents.llm import LLMError
from agents.llm_classification import classify_with_llm
from agents.replies import say, when
from agents.state import AgentState
from knowledge.passages import Passage

SMALL_TALK = {"greeting", "thanks", "goodbye"}
RESOLVED = {"thanks", "goodbye"}
"""Intents by which the customer tells the bot its problem is solved."""
LLM_PASSAGES = 4


async def classify(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    context = runtime.context
    vector = await context.vector(state["text"])
    result = context.classifier.classify(state["text"], vector, context.history).as_dict()
    usage: list[dict[str, Any]] = []
    if context.llm is not None and context.llm_classifies:
        labels = sorted(context.classifier.labels)
        result, call = await classify_with_llm(context.llm, state["text"], result, labels, context.history)
        usage = [{**call.as_dict(), "purpose": "classify"}] if call else []
    if looks_like_injection(state["text"]):
        result["guardrail"] = "prompt_injection"
    return {"classification": result, "usage": usage}


async def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    intent = state["classification"]["intent"]
    if intent in SMALL_TALK or intent in runtime.context.policy.always_escalate_intents:
        return {"passages": []}
    context = runtime.context
    passages = await context.search(state["text"], await context.vector(state["text"]))
    ranked = sorted(passages, key=lambda passage: passage.relevance, reverse=True)
    return {"passages": [{**p.as_dict(), "relevance": round(p.relevance, 4)} for p in ranked]}


def _decision(action: str, rule: str, reason: str) -> dict[str, Any]:
    return {"decision": {"action": action, "rule": rule, "reason": reason}}


def _escalation_rule(state: AgentState, context: AgentContext) -> dict[str, Any] | None:
    """The policy's hand-off rules, in order; the first that fires names itself."""
    policy = context.policy
    classification = state["classification"]
    intent = classification["intent"]
    if intent in policy.always_escalate_intents:
        if intent == "human_agent":
            return _decision("escalate", "customer_asked_for_human", "the customer asked to talk to a person")
        return _decision("escalate", "always_escalate_intent", f"intent {intent} always goes to a human")
    if classification["sentiment_score"] <= policy.sentiment_threshold:
        return _decision(
            "escalate",
            "negative_sentiment",
            f"sentiment {classification['sentiment_score']:.2f} is at or below {policy.sentiment_threshold:.2f}",
        )
    if classification["churn_risk"] >= policy.churn_threshold:
        reasons = "; ".join(classification.get("churn_reasons", []))
        return _decision(
            "escalate",
            "churn_risk",
            f"churn risk {classification['churn_risk']:.2f} is at or above {policy.churn_threshold:.2f}"
            + (f" ({reasons})" if reasons else ""),
        )
    return None


async def decide(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    context = runtime.context
    escalation = _escalation_rule(state, context)
    if escalation:
        return escalation
    intent = state["classification"]["intent"]
    if intent in SMALL_TALK:
        return _decision("respond", "small_talk", f"the message is a {intent}")
    turns = state.get("bot_turns", 0)
    if turns >= context.policy.max_bot_turns:
        return _decision(
            "escalate",
            "too_many_bot_turns",
            f"{turns} bot answers in a row without the customer saying it is solved",
        )
    passages = state.get("passages", [])
    best = passages[0]["relevance"] if passages else 0.0
    if best < context.min_relevance:
        if state["classification"].get("out_of_scope"):
            return _decision("respond", "out_of_scope", "the message is not about the business")
        return _decision(
            "escalate",
            "no_relevant_passage",
            f"best passage relevance {best:.2f} is below {context.min_relevance:.2f}",
        )
    return _decision("respond", "grounded_answer", f"best passage relevance {best:.2f}")


def _citation(passage: Passage) -> dict[str, Any]:
    return {
        "document": passage.document,
        "chunk_id": passage.chunk_id,
        "score": round(passage.relevance, 4),
        "title": passage.title,
        "heading_path": passage.heading_path,
        "page": passage.page,
    }


def _answer_passages(state: AgentState, threshold: float) -> list[Passage]:
    return [
        Passage(**{k: v for k, v in p.items() if k != "relevance"})
        for p in state["passages"]
        if p["relevance"] >= threshold
    ]


async def respond(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    context = runtime.context
    classification = state["classification"]
    language = classification["language"]
    rule = state["decision"]["rule"]
    if rule == "small_talk":
        turns = 0 if classification["intent"] in RESOLVED else state.get("bot_turns", 0)
        return {"reply": say(classification["intent"], language), "citations": [], "bot_turns": turns}
    turns = state.get("bot_turns", 0) + 1
    if rule == "out_of_scope":
        reply = say("out_of_scope", language, company=context.company)
        return {"reply": reply, "citations": [], "bot_turns": turns}
    passages = _answer_passages(state, context.min_relevance)
    if context.llm is None:
        answer = await extractive_answer(state["text"], passages, context.embedder)
        return {
            "reply": answer.text,
            "citations": [_citation(p) for p in answer.passages],
            "bot_turns": turns,
        }
    return await _generate(state, runtime, passages[:LLM_PASSAGES], turns)


async def _generate(
    state: AgentState, runtime: Runtime[AgentContext], passages: list[Passage], turns: int
) -> dict[str, Any]:
    context = runtime.context
    assert context.llm is not None

    async def on_delta(text: str) -> None:
        runtime.stream_writer({"type": "reply.delta", "text": text})

    try:
        generated = await generate_grounded(
            context.llm,
            company=context.company,
            language=state["classification"]["language"],
            question=state["text"],
            transcript=context.transcript,
            passages=passages,
            canary=new_canary(),
            on_delta=on_delta,
        )
    except LLMError as exc:
        return _decision("escalate", "llm_unavailable", f"the language model failed: {exc}")
    usage = [{**generated.usage.as_dict(), "purpose": "reply"}]
    if generated.blocked:
        blocked = _decision("escalate", "guardrail_blocked_reply", "the reply would reveal the instructions")
        return {**blocked, "usage": usage}
    if not generated.answerable:
        return {
            **_decision("escalate", "llm_cannot_answer", "the model found no answer in the passages"),
            "usage": usage,
        }
    return {
        "reply": generated.text,
        "citations": [_citation(p) for p in generated.cited],
        "bot_turns": turns,
        "usage": usage,
    }


async def escalate(state: AgentState, runtime: Runtime[AgentContext]) -> dict[str, Any]:
    """Hand off; outside business hours the customer also learns when humans are back."""
    language = state["classification"]["language"]
    hours = runtime.context.policy.business_hours
    now = runtime.context.now()
    if hours is not None and not hours.is_open(now):
        reply = say("after_hours", language, when=when(hours.next_opening(now), language))
        decision = {**state["decision"], "outside_business_hours": True}
        return {"reply": reply, "citations": [], "bot_turns": 0, "decision": decision}
    return {"reply": say("handoff", language), "citations": [], "bot_turns": 0}
