"""Classifier heads learn labels from a few examples, from meaning and from wording, and flag what fits none."""

from __future__ import annotations

import numpy as np

from agents.classifiers import OUT_OF_SCOPE, EmbeddingHead, HeadConfig
from conversations.services import Services

EXAMPLES = {
    "card_lost": ["I lost my card", "my card was stolen", "I can't find my debit card anywhere"],
    "refund": ["I want my money back", "how do I get a refund?", "please refund my last purchase"],
    "password": ["I forgot my password", "reset my password please", "can't log in, password not working"],
}


def _flat(examples: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    texts = [text for listed in examples.values() for text in listed]
    return texts, [label for label, listed in examples.items() for _ in listed]


async def test_a_head_learns_intents_from_a_few_examples_and_flags_the_rest(services: Services) -> None:
    texts, labels = _flat(EXAMPLES)
    head = EmbeddingHead(out_of_scope_below=0.5).fit(texts, services.embedder.encode(texts), labels)
    asked = [
        "someone took my card from my wallet",
        "give me my money back for this order",
        "what's the weather in Paris?",
    ]
    predictions = head.predict(asked, services.embedder.encode(asked))
    assert [p.label for p in predictions[:2]] == ["card_lost", "refund"]
    assert predictions[2].label == OUT_OF_SCOPE
    assert predictions[0].score > predictions[2].score


async def test_a_head_reading_character_ngrams_learns_wording_with_typos_and_without_accents(
    services: Services,
) -> None:
    examples = {
        "boleto": ["segunda via do boleto", "o boleto venceu", "preciso do boleto atualizado"],
        "senha": ["esqueci minha senha", "trocar a senha", "a senha não funciona"],
    }
    texts, labels = _flat(examples)
    head = EmbeddingHead(HeadConfig(chars=True, embedding_weight=0.0)).fit(
        texts, np.zeros((len(texts), 1), np.float32), labels
    )
    asked = ["2a via do bolleto pfv", "esqueci a sehna"]
    predictions = head.predict(asked, np.zeros((len(asked), 1), np.float32))
    assert [p.label for p in predictions] == ["boleto", "senha"]


async def test_one_message_and_a_batch_get_the_same_probabilities(services: Services) -> None:
    texts, labels = _flat(EXAMPLES)
    head = EmbeddingHead(HeadConfig(words=True, chars=True, lexicon=True)).fit(
        texts, services.embedder.encode(texts), labels
    )
    asked = ["my card is gone", "refund please!!", "zzz"]
    vectors = services.embedder.encode(asked)
    batch = head.predict(asked, vectors)
    for text, vector, together in zip(asked, vectors, batch, strict=True):
        alone = head.predict_one(text, vector)
        assert alone.label == together.label
        assert abs(sum(alone.probabilities.values()) - 1.0) < 1e-9
        assert alone.probabilities == together.probabilities


async def test_a_head_with_two_labels(services: Services) -> None:
    texts, labels = _flat({k: EXAMPLES[k] for k in ("card_lost", "refund")})
    head = EmbeddingHead().fit(texts, services.embedder.encode(texts), labels)
    asked = "my wallet was stolen with my card in it"
    [prediction] = head.predict([asked], services.embedder.encode([asked]))
    assert set(prediction.probabilities) == {"card_lost", "refund"}
    assert prediction.label == "card_lost"
    assert abs(sum(prediction.probabilities.values()) - 1.0) < 1e-9
