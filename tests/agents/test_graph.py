"""The agent graph, from a customer's text to a decision: answer with sources, or hand off."""

from __future__ import annotations

import re

import pytest

from agents.state import AgentState, Decision
from conversations.services import Services
from core.accounts import Tenant
from tests.agents.turns import agent_turn
from tests.conftest import MakeTenant


async def _turn(services: Services, tenant: Tenant, text: str, thread: str | None = None) -> AgentState:
    return await agent_turn(services, tenant, text, thread=thread)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


@pytest.mark.parametrize(
    ("question", "document"),
    [
        ("Como tiro a segunda via do boleto?", "segunda-via-boleto.md"),
        ("My wifi keeps dropping, what should I do?", "wifi-troubleshooting.md"),
        (
            "Vou mudar de casa, vocês transferem a internet para o novo endereço?",
            "planos/mudanca-de-endereco.md",
        ),
    ],
)
async def test_answers_from_the_knowledge_base_citing_the_right_document(
    services: Services, make_tenant: MakeTenant, question: str, document: str
) -> None:
    tenant = await make_tenant()
    state = await _turn(services, tenant, question)
    assert state["decision"].action == "respond"
    assert state["citations"][0].document == document
    cited = " ".join(p.text for p in state["passages"] if p.chunk_id == state["citations"][0].chunk_id)
    # Grounded: every sentence of the reply is taken from the cited passage.
    for sentence in _sentences(state["reply"]):
        assert sentence in cited


@pytest.mark.parametrize(
    "question",
    [
        "Vocês vendem celulares?",
        "Qual o telefone do presidente da empresa?",
    ],
)
async def test_never_invents_an_answer_when_nothing_relevant_is_found(
    services: Services, make_tenant: MakeTenant, question: str
) -> None:
    """A question the knowledge base does not answer is handed off, or, when the classifier finds
    it is not about the business at all, politely declined; never answered from nothing."""
    tenant = await make_tenant()
    state = await _turn(services, tenant, question)
    assert (state["decision"].action, state["decision"].rule) in {
        ("escalate", "no_relevant_passage"),
        ("respond", "out_of_scope"),
    }
    assert state["citations"] == []


async def test_a_request_for_a_person_escalates_in_the_customers_language(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    state = await _turn(services, tenant, "Quiero hablar con un agente, por favor")
    assert state["decision"].rule == "customer_asked_for_human"
    assert "agente humano" in state["reply"]


async def test_a_very_angry_customer_goes_to_a_human_even_when_the_answer_is_known(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    state = await _turn(
        services, tenant, "QUE PALHAÇADA! Pela terceira vez: como tiro a segunda via do boleto?!!"
    )
    assert state["decision"].rule == "negative_sentiment"


async def test_greetings_get_a_greeting_not_a_handoff(services: Services, make_tenant: MakeTenant) -> None:
    tenant = await make_tenant()
    state = await _turn(services, tenant, "oi")
    assert state["decision"] == Decision("respond", "small_talk", "the message is a greeting")
    assert state["reply"].startswith("Olá")


async def test_a_question_about_something_else_gets_a_polite_no_not_a_ticket(
    services: Services, make_tenant: MakeTenant
) -> None:
    tenant = await make_tenant()
    state = await _turn(services, tenant, "What is the capital of France?")
    assert state["decision"].action == "respond"
    assert state["decision"].rule == "out_of_scope"
    assert state["classification"].out_of_scope is True
    assert tenant.name in state["reply"]


async def test_a_citation_names_the_page_of_a_pdf(
    services: Services, make_tenant: MakeTenant, tmp_path
) -> None:
    from knowledge.ingest import collect_files, ingest_files
    from tests.knowledge.test_formats import MANUAL_PAGES, write_pdf

    tenant = await make_tenant(with_kb=False)
    write_pdf(tmp_path / "manual.pdf", MANUAL_PAGES)
    await ingest_files(
        services.database.sessionmaker, services.embedder, tenant.id, collect_files([tmp_path])
    )
    state = await _turn(services, tenant, "How often should I clean the filter?")
    assert state["decision"].action == "respond"
    assert (state["citations"][0].document, state["citations"][0].page) == ("manual.pdf", 2)
    assert "every two weeks" in state["reply"]
