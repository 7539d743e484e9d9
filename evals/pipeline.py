"""One case through the real pipeline: the tenant's search, classifier and whole agent graph.

Turns run the production graph with the production context, on checkpoint threads named
``eval:<run id>:<case id>``; nothing is stored as a message, no ticket is opened and no channel
sends anything. The threads' checkpoints are deleted after the run.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray

from agents.classifiers import Classifier, ConversationHistory
from agents.context import AgentContext
from agents.llm import ChatMessage, LLMProvider
from agents.llm_classification import classify_with_llm
from agents.record import DecisionRecord
from agents.state import AgentState
from agents.tenant_context import build_agent_context
from conversations.services import Services
from core.accounts import Tenant
from evals.groundedness import groundedness
from evals.judge import LLMJudge
from evals.results import CaseResult, Check, ClassificationRecord, RetrievalRecord, TurnRecord
from evals.suite import ClassificationCase, ConversationCase, LoadedCase, RetrievalCase, TurnExpect
from knowledge.passages import Passage, PassageView
from knowledge.search import search as search_knowledge
from knowledge.text import normalize

SEARCH_DEPTH = 20
"""Passages fetched for a retrieval case: enough for 10 distinct documents in most knowledge bases."""
RANKED = 10
SHOWN_PASSAGES = 5
PASSAGE_CHARS = 600


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _plain(text: str) -> str:
    return " ".join(normalize(text).split())


def _list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else value


def _passage_view(passage: PassageView) -> dict[str, Any]:
    keys = ("document", "chunk_id", "heading_path", "page", "relevance", "dense_score", "fused_score")
    view: dict[str, Any] = {k: getattr(passage, k) for k in keys}
    text = passage.text
    view["text"] = text[:PASSAGE_CHARS] + ("…" if len(text) > PASSAGE_CHARS else "")
    return view


def predicted_intent(classification: dict[str, Any]) -> str:
    """The intent as a suite names it: a text the classifier calls out of scope is ``out_of_scope``."""
    if classification.get("out_of_scope"):
        return "out_of_scope"
    return str(classification.get("intent", ""))


def _check(name: str, expected: object, actual: object, passed: bool | None = None) -> Check:
    return Check(
        name=name,
        passed=(expected == actual) if passed is None else passed,
        expected=str(expected),
        actual=str(actual),
    )


def turn_checks(expect: TurnExpect, turn: TurnRecord) -> list[Check]:
    """Every expectation of a turn against what the graph did."""
    checks = []
    classification = turn.classification
    if expect.escalated is not None:
        checks.append(_check("escalated", expect.escalated, turn.escalated))
    if expect.rule is not None:
        checks.append(_check("rule", expect.rule, turn.decision.get("rule")))
    if expect.cites is not None:
        cited = [str(c.get("document")) for c in turn.citations]
        checks.append(_check("cites", expect.cites, ", ".join(cited) or "nothing", expect.cites in cited))
    reply = _plain(turn.reply or "")
    for text in _list(expect.contains):
        checks.append(_check("contains", text, turn.reply or "", _plain(text) in reply))
    for text in _list(expect.not_contains):
        checks.append(_check("not_contains", text, turn.reply or "", _plain(text) not in reply))
    if expect.intent is not None:
        checks.append(_check("intent", expect.intent, predicted_intent(classification)))
    if expect.sentiment is not None:
        checks.append(_check("sentiment", expect.sentiment, classification.get("sentiment")))
    if expect.language is not None:
        checks.append(_check("language", expect.language, classification.get("language")))
    if expect.rubric is not None:
        checks.append(
            Check(name="rubric", passed=None, expected=expect.rubric, actual="no LLM judge configured")
        )
    return checks


@dataclass
class EvalPipeline:
    services: Services
    tenant: Tenant
    run_id: str
    threads: list[str] = field(default_factory=list)
    """Checkpoint threads this run wrote, deleted by :meth:`forget_threads`."""
    judge: LLMJudge | None = None
    """With an LLM configured: rubrics and groundedness judged by it (else rubrics are skipped)."""
    _classifying: tuple[Classifier, LLMProvider | None] | None = None

    async def classifying(self) -> tuple[Classifier, LLMProvider | None]:
        """The tenant's classifier, and its LLM when the tenant has the LLM classify too, as a turn gets
        them; read once per run (they do not change during it)."""
        if self._classifying is None:
            async with self.services.database.sessionmaker() as session:
                context = await build_agent_context(self.services, session, self.tenant)
            self._classifying = (context.classifier, context.llm if context.llm_classifies else None)
        return self._classifying

    async def classify(self, text: str, vector: NDArray[np.float32]) -> dict[str, Any]:
        """The classify step of the graph alone (the offline heads, then the LLM if the tenant uses it)."""
        classifier, llm = await self.classifying()
        result = classifier.classify(text, vector, ConversationHistory())
        if llm is not None:
            result, _ = await classify_with_llm(
                llm, text, result, sorted(classifier.labels), ConversationHistory()
            )
        return result.as_dict()

    def thread(self, case_id: str) -> str:
        name = f"eval:{self.run_id}:{case_id}"
        self.threads.append(name)
        return name

    async def run(self, loaded: LoadedCase, vector: NDArray[np.float32] | None = None) -> CaseResult:
        """The case's result; an exception becomes a failed case that says what went wrong."""
        case = loaded.case
        try:
            if isinstance(case, RetrievalCase):
                result = await self._retrieval(loaded, case, vector)
            elif isinstance(case, ClassificationCase):
                result = await self._classification(loaded, case, vector)
            else:
                result = await self._conversation(loaded, case)
        except Exception as exc:  # one broken case must not stop the run; its report says why
            return CaseResult(
                id=case.id,
                kind=loaded.kind,
                file=str(loaded.file),
                line=loaded.line,
                passed=False,
                error=f"{type(exc).__name__}: {exc}",
            )
        checks = [c for t in result.turns for c in t.checks] + result.checks
        result.passed = result.error is None and all(c.passed is not False for c in checks)
        return result

    def _result(self, loaded: LoadedCase, **parts: Any) -> CaseResult:
        return CaseResult(
            id=loaded.case.id,
            kind=loaded.kind,
            file=str(loaded.file),
            line=loaded.line,
            passed=False,
            **parts,
        )

    async def _vector(self, text: str, vector: NDArray[np.float32] | None) -> NDArray[np.float32]:
        if vector is not None:
            return vector
        encoded: NDArray[np.float32] = (await self.services.embedder.aencode([text]))[0]
        return encoded

    async def _retrieval(
        self, loaded: LoadedCase, case: RetrievalCase, vector: NDArray[np.float32] | None
    ) -> CaseResult:
        query_vector = await self._vector(case.query, vector)
        started = time.perf_counter()
        async with self.services.database.sessionmaker() as session:
            passages = await search_knowledge(
                session,
                self.services.embedder,
                self.tenant.id,
                case.query,
                SEARCH_DEPTH,
                reranker=self.services.reranker,
                vector=query_vector,
            )
        latency = _ms(started)
        ranked, relevant, gold_count = _rank(case, passages)
        k = case.k
        first = next((rank for rank, hit in enumerate(relevant[:k], start=1) if hit), None)
        expected = ", ".join(case.gold_documents or case.gold_chunks) or repr(case.gold_answer)
        record = RetrievalRecord(
            query=case.query,
            ranked=ranked,
            relevant=relevant,
            gold_count=gold_count,
            k=k,
            passages=[_passage_view(PassageView.of(p)) for p in passages[:k]],
            latency_ms=latency,
        )
        check = Check(
            name=f"hit@{k}",
            passed=first is not None,
            expected=expected,
            actual=f"rank {first}" if first else f"not in the top {k}: {', '.join(ranked[:k])}",
        )
        return self._result(loaded, retrieval=record, checks=[check])

    async def _classification(
        self, loaded: LoadedCase, case: ClassificationCase, vector: NDArray[np.float32] | None
    ) -> CaseResult:
        expect = case.expect
        expected = {
            task: value
            for task, value in (
                ("intent", expect.intent),
                ("sentiment", expect.sentiment),
                ("language", expect.language),
            )
            if value is not None
        }
        turns: list[TurnRecord] = []
        if expect.escalated is not None:
            # Escalation needs the whole turn: retrieval and the policy decide it, not the classifier alone.
            async with self.services.database.sessionmaker() as session:
                context = await build_agent_context(self.services, session, self.tenant)
                if vector is not None:
                    context.vectors[case.text] = vector
                turn = await self._turn(context, self.thread(case.id), case.text)
            turn.expected_escalated = expect.escalated
            turn.checks = turn_checks(TurnExpect(escalated=expect.escalated), turn)
            turns.append(turn)
            classification, latency = turn.classification, turn.latency_ms
        else:
            query_vector = await self._vector(case.text, vector)
            started = time.perf_counter()
            classification = await self.classify(case.text, query_vector)
            latency = _ms(started)
        predicted = {
            "intent": predicted_intent(classification),
            "sentiment": str(classification.get("sentiment", "")),
            "language": str(classification.get("language", "")),
        }
        checks = [_check(task, value, predicted[task]) for task, value in expected.items()]
        record = ClassificationRecord(
            text=case.text,
            expected=expected,
            predicted={task: predicted[task] for task in expected},
            scores={k: v for k, v in classification.items() if k not in predicted},
            latency_ms=latency,
        )
        return self._result(loaded, classification=record, checks=checks, turns=turns)

    async def _conversation(self, loaded: LoadedCase, case: ConversationCase) -> CaseResult:
        thread = self.thread(case.id)
        transcript: list[ChatMessage] = []
        sentiments: list[float] = []
        turns = []
        async with self.services.database.sessionmaker() as session:
            for scripted in case.turns:
                context = await build_agent_context(self.services, session, self.tenant)
                context.transcript = list(transcript)
                context.history = ConversationHistory(sentiments=list(sentiments))
                turn = await self._turn(context, thread, scripted.user)
                turn.expected_escalated = scripted.expect.escalated
                turn.checks = turn_checks(scripted.expect, turn)
                turns.append(turn)
                transcript.append(ChatMessage(role="user", content=scripted.user))
                if turn.reply:
                    transcript.append(ChatMessage(role="assistant", content=turn.reply))
                if scripted.expect.rubric is not None and self.judge is not None:
                    verdict = await self.judge.rubric(_said(transcript), scripted.expect.rubric)
                    turn.checks = [verdict if c.name == "rubric" else c for c in turn.checks]
                if "sentiment_score" in turn.classification:
                    sentiments.append(float(turn.classification["sentiment_score"]))
        checks = []
        if case.rubric is not None and self.judge is not None:
            checks.append(await self.judge.rubric(_said(transcript), case.rubric))
        elif case.rubric is not None:
            checks.append(
                Check(name="rubric", passed=None, expected=case.rubric, actual="no LLM judge configured")
            )
        return self._result(loaded, turns=turns, checks=checks)

    async def _turn(self, context: AgentContext, thread: str, text: str) -> TurnRecord:
        started = time.perf_counter()
        # "usage": None starts the turn's LLM usage afresh, as the inbound pipeline does.
        fresh = cast(AgentState, {"text": text, "message_id": str(uuid.uuid4()), "usage": None})
        state = await self.services.graph.ainvoke(
            fresh, config={"configurable": {"thread_id": thread}}, context=context
        )
        latency = _ms(started)
        decision = DecisionRecord.of_decision(state["decision"]).as_json()
        citations = state.get("citations", [])
        passages = state.get("passages", [])
        usage = state.get("usage") or []
        reply = state.get("reply")
        cited_ids = {c.chunk_id for c in citations}
        cited_texts = [p.text for p in passages if p.chunk_id in cited_ids]
        grounded = None
        if reply and cited_texts and self.judge is not None:
            grounded = await self.judge.groundedness(reply, cited_texts)
        if reply and cited_texts and grounded is None:
            grounded = await groundedness(reply, cited_texts, context.embedder)
        return TurnRecord(
            user=text,
            reply=reply,
            escalated=state["decision"].action == "escalate",
            decision=decision,
            classification=state["classification"].as_dict(),
            citations=[asdict(c) for c in citations],
            passages=[_passage_view(PassageView.of(p)) for p in passages[:SHOWN_PASSAGES]],
            latency_ms=latency,
            input_tokens=sum(u.input_tokens for u in usage),
            output_tokens=sum(u.output_tokens for u in usage),
            cost_usd=sum(u.cost_usd for u in usage),
            groundedness=grounded,
        )

    async def forget_threads(self) -> None:
        """Delete the checkpoints of this run's threads, so evals leave nothing behind."""
        checkpointer = self.services.graph.checkpointer
        delete = getattr(checkpointer, "adelete_thread", None)
        if delete is None:
            return
        for thread in self.threads:
            await delete(thread)
        self.threads.clear()


def _said(transcript: list[ChatMessage]) -> list[tuple[str, str]]:
    return [("customer" if m.role == "user" else "assistant", m.content) for m in transcript]


def _rank(case: RetrievalCase, passages: list[Passage]) -> tuple[list[str], list[bool], int]:
    """What is ranked (documents, chunk ids or passages) and which ranks are relevant."""
    if case.gold_documents:
        documents = list(dict.fromkeys(p.document for p in passages))[:RANKED]
        gold = set(case.gold_documents)
        return documents, [d in gold for d in documents], len(gold)
    if case.gold_chunks:
        chunks = [p.chunk_id for p in passages][:RANKED]
        gold = set(case.gold_chunks)
        return chunks, [c in gold for c in chunks], len(gold)
    answer = _plain(case.gold_answer or "")
    shown = passages[:RANKED]
    return [p.chunk_id for p in shown], [answer in _plain(p.text) for p in shown], 1
