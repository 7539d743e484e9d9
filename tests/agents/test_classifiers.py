"""The first classifiers: asking for a person, anger, language, intents."""

from __future__ import annotations

import pytest

from agents.classifiers import classify, detect_language
from agents.classifiers._classify import asks_for_human

ASKING_FOR_A_PERSON = [
    "quero falar com um atendente",
    "Quero falar com um humano!",
    "posso falar com uma pessoa?",
    "me passa pra alguém de verdade por favor",
    "chama um operador",
    "preciso conversar com o gerente",
    "tem algum atendente disponível?",
    "I want to talk to a human",
    "Can I speak to someone, please?",
    "get me a real person",
    "connect me with a live agent",
    "I need a representative",
    "Quiero hablar con un agente",
    "¿Puedo hablar con una persona?",
    "necesito un asesor",
]

NOT_ASKING = [
    "qual o prazo de entrega?",
    "How do I reset my password?",
    "I am a real estate agent, can I buy in bulk?",
    "a pessoa que recebeu o pedido foi o porteiro",
    "¿Cuánto cuesta el envío?",
]


@pytest.mark.parametrize("text", ASKING_FOR_A_PERSON)
def test_a_request_for_a_person_is_recognised_however_phrased(text: str) -> None:
    assert asks_for_human(text)
    assert classify(text).intent == "human_agent"


@pytest.mark.parametrize("text", NOT_ASKING)
def test_questions_that_mention_people_are_not_requests_for_one(text: str) -> None:
    assert not asks_for_human(text)


@pytest.mark.parametrize(
    "text",
    [
        "ESSA LOJA É UMA VERGONHA, PÉSSIMO ATENDIMENTO!!!",
        "this is the worst service ever, absolutely unacceptable!!",
        "estou furioso, vocês são uma palhaçada",
    ],
)
def test_very_angry_messages_score_at_the_bottom(text: str) -> None:
    result = classify(text)
    assert result.sentiment == "negative"
    assert result.sentiment_score <= -0.75


def test_praise_is_positive_and_negation_flips_it() -> None:
    assert classify("adorei, entrega rápida e produto excelente").sentiment == "positive"
    assert classify("o produto não é bom").sentiment_score < 0


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Qual o prazo de entrega do meu pedido?", "pt"),
        ("Where is my order?", "en"),
        ("¿Dónde está mi pedido?", "es"),
    ],
)
def test_language(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_churn_risk_rises_with_cancellation_and_repeated_anger() -> None:
    calm = classify("qual o prazo de entrega?")
    leaving = classify("quero cancelar tudo, péssimo serviço", previous_sentiments=[-0.6, -0.8])
    assert leaving.intent == "cancel"
    assert leaving.churn_risk > calm.churn_risk + 0.5
    assert "asks to cancel" in leaving.churn_reasons
