"""Graph nodes. Each returns a partial state update and is safe to re-run on resume."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from langgraph.runtime import Runtime

from agents.answerer import extractive_answer
from agents.context import AgentContext
from agents.generation import generate_grounded
from agents.guardrails import looks_like_injection, new_canary
from agents.llm import LLMError, UsageRecord
from agents.llm_classification import classify_with_llm
from agents.replies import say, when
from agents.state import AgentState, Citation, Decision
from knowledge.passages import Passage

SMALL_TALK = {"greeting", "thanks", "goodbye"}
RESOLVED = {"thanks", "goodbye"}
"""Intents by which the customer tells the bot its problem is solved."""
LLM_PASSAGES = 4


async def classify(state: AgentState, runtime: Runtime[AgentContext]) -> AgentState:
    context = runtime.context
    vector = await context.vector(state["text"])
    result = context.classifier.classify(state["text"], vector, context.history)
    usage: list[UsageRecord] = []
    if context.llm is not None and context.llm_classifies:
        labels = sorted(context.classifier.labels)
        result, call = await classify_with_llm(context.llm, state["text"], result, labels, context.history)
        usage = [UsageRecord.of(call, "classify")] if call else []
    if looks_like_injection(state["text"]):
        result = replace(result, guardrail="prompt_injection")
    return {"classification": result, "usage": usage}


async def retrieve(state: AgentState, runtime: Runtime[AgentContext]) -> AgentState:
    intent = state["classification"].intent
    if intent in SMALL_TALK or intent in runtime.context.policy.always_escalate_intents:
        return {"passages": []}
    context = runtime.context
    passages = await context.search(state["text"], await context.vector(state["text"]))
    return {"passages": sorted(passages, key=lambda passage: passage.relevance, reverse=True)}


def _decision(action: Literal["respond", "escalate"], rule: str, reason: str) -> AgentState:
    return {"decision": Decision(action, rule, reason)}


def _escalation_rule(state: AgentState, context: AgentContext) -> AgentState | None:
    """The policy's hand-off rules, in order; the first that fires names itself."""
    policy = context.policy
    classification = state["classification"]
    intent = classification.intent
    if intent in policy.always_escalate_intents:
        if intent == "human_agent":
            return _decision("escalate", "customer_asked_for_human", "the customer asked to talk to a person")
        return _decision("escalate", "always_escalate_intent", f"intent {intent} always goes to a human")
    if classification.sentiment_score <= policy.sentiment_threshold:
        return _decision(
            "escalate",
            "negative_sentiment",
            f"sentiment {classification.sentiment_score:.2f} is at or below {policy.sentiment_threshold:.2f}",
        )
    if classification.churn_risk >= policy.churn_threshold:
        reasons = "; ".join(classification.churn_reasons)
        return _decision(
            "escalate",
            "churn_risk",
            f"churn risk {classification.churn_risk:.2f} is at or above {policy.churn_threshold:.2f}"
            + (f" ({reasons})" if reasons else ""),
        )
    return None


def _relevance(passage: Passage) -> float:
    """As the decision record shows it (four places), so the record explains the threshold it met."""
    return round(passage.relevance, 4)


async def decide(state: AgentState, runtime: Runtime[AgentContext]) -> AgentState:
    context = runtime.context
    escalation = _escalation_rule(state, context)
    if escalation:
        return escalation
    intent = state["classification"].intent
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
    best = _relevance(passages[0]) if passages else 0.0
    if best < context.min_relevance:
        if state["classification"].out_of_scope:
            return _decision("respond", "out_of_scope", "the message is not about the business")
        return _decision(
            "escalate",
            "no_relevant_passage",
            f"best passage relevance {best:.2f} is below {context.min_relevance:.2f}",
        )
    return _decision("respond", "grounded_answer", f"best passage relevance {best:.2f}")


async def respond(state: AgentState, runtime: Runtime[AgentContext]) -> AgentState:
    context = runtime.context
    classification = state["classification"]
    language = classification.language
    rule = state["decision"].rule
    if rule == "small_talk":
        turns = 0 if classification.intent in RESOLVED else state.get("bot_turns", 0)
        return {"reply": say(classification.intent, language), "citations": [], "bot_turns": turns}
    turns = state.get("bot_turns", 0) + 1
    if rule == "out_of_scope":
        reply = say("out_of_scope", language, company=context.company)
        return {"reply": reply, "citations": [], "bot_turns": turns}
    passages = [p for p in state["passages"] if _relevance(p) >= context.min_relevance]
    if context.llm is None:
        answer = await extractive_answer(state["text"], passages, context.embedder)
        return {
            "reply": answer.text,
            "citations": [Citation.of(p) for p in answer.passages],
            "bot_turns": turns,
        }
    return await _generate(state, runtime, passages[:LLM_PASSAGES], turns)


async def _generate(
    state: AgentState, runtime: Runtime[AgentContext], passages: list[Passage], turns: int
) -> AgentState:
    context = runtime.context
    assert context.llm is not None

    async def on_delta(text: str) -> None:
        runtime.stream_writer({"type": "reply.delta", "text": text})

    try:
        generated = await generate_grounded(
            context.llm,
            company=context.company,
            language=state["classification"].language,
            question=state["text"],
            transcript=context.transcript,
            passages=passages,
            canary=new_canary(),
            on_delta=on_delta,
        )
    except LLMError as exc:
        return _decision("escalate", "llm_unavailable", f"the language model failed: {exc}")
    usage = [UsageRecord.of(generated.usage, "reply")]
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
        "citations": [Citation.of(p) for p in generated.cited],
        "bot_turns": turns,
        "usage": usage,
    }


async def escalate(state: AgentState, runtime: Runtime[AgentContext]) -> AgentState:
    """Hand off; outside business hours the customer also learns when humans are back."""
    language = state["classification"].language
    hours = runtime.context.policy.business_hours
    now = runtime.context.now()
    if hours is not None and not hours.is_open(now):
        reply = say("after_hours", language, when=when(hours.next_opening(now), language))
        decision = replace(state["decision"], outside_business_hours=True)
        return {"reply": reply, "citations": [], "bot_turns": 0, "decision": decision}
    return {"reply": say("handoff", language), "citations": [], "bot_turns": 0}
