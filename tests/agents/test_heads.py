"""Classifier heads on sentence embeddings learn intents from a few examples and flag what fits none."""

from __future__ import annotations

from agents.classifiers._heads import OUT_OF_SCOPE, EmbeddingHead
from runtime.services import Services

EXAMPLES = {
    "card_lost": ["I lost my card", "my card was stolen", "I can't find my debit card anywhere"],
    "refund": ["I want my money back", "how do I get a refund?", "please refund my last purchase"],
    "password": ["I forgot my password", "reset my password please", "can't log in, password not working"],
}


async def test_a_head_learns_intents_from_a_few_examples_and_flags_the_rest(services: Services) -> None:
    texts = [text for examples in EXAMPLES.values() for text in examples]
    labels = [label for label, examples in EXAMPLES.items() for _ in examples]
    head = EmbeddingHead(out_of_scope_below=0.5).fit(services.embedder.encode(texts), labels)
    asked = [
        "someone took my card from my wallet",
        "give me my money back for this order",
        "what's the weather in Paris?",
    ]
    predictions = head.predict(services.embedder.encode(asked))
    assert [p.label for p in predictions[:2]] == ["card_lost", "refund"]
    assert predictions[2].label == OUT_OF_SCOPE
    assert predictions[0].score > predictions[2].score
