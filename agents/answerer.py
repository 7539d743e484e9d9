"""The offline answerer: replies only with sentences taken from the retrieved passages."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from agents.guardrails import looks_like_injection
from knowledge.embeddings import Embedder
from knowledge.passages import Passage
from knowledge.text import term_coverage

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÁÉÍÓÚÂÊÔÃÕÇ0-9\"“(])")


@dataclass(frozen=True)
class Answer:
    text: str
    passages: list[Passage]


def split_sentences(text: str) -> list[str]:
    """Sentences and list items, in order."""
    sentences: list[str] = []
    for line in text.splitlines():
        line = line.strip().lstrip("-*• ").strip()
        if line:
            sentences.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return sentences


async def extractive_answer(
    question: str, passages: list[Passage], embedder: Embedder, max_sentences: int = 3
) -> Answer:
    """The sentences of the best passage that answer the question, in the passage's order.

    Nothing is written that is not in the passage, so the answer cannot state an invented fact.
    """
    # The answer may sit in the second passage of the same document (an intro before the details).
    candidates = [p for p in passages[:3] if p.document == passages[0].document][:2]
    # A sentence that talks to the assistant is an injected instruction, never an answer.
    sentences = [
        (passage, s)
        for passage in candidates
        for s in split_sentences(passage.text)
        if not looks_like_injection(s)
    ]
    if not sentences:
        return Answer("", [])
    vectors = await embedder.aencode([question, *(s for _, s in sentences)])
    similarity = vectors[1:] @ vectors[0]
    coverage = np.array([term_coverage(question, s) for _, s in sentences])
    scores = similarity + 0.3 * coverage
    top = int(scores.argmax())
    source = sentences[top][0]
    chosen = {top}
    # Close runners-up from the same passage stay: answers often span adjacent sentences.
    for index in np.argsort(-scores)[1:]:
        if len(chosen) >= max_sentences:
            break
        if sentences[index][0] is source and scores[index] >= scores[top] - 0.12:
            chosen.add(int(index))
    return Answer(" ".join(sentences[i][1] for i in sorted(chosen)), [source])
