"""Knowledge gaps: questions the knowledge base could not answer, grouped by meaning, most asked first."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from knowledge.embeddings import Embedder
from knowledge.text import content_words, strip_accents

SAME_GAP = 0.6
"""Average similarity between two groups' questions above which they are one gap."""


@dataclass
class Gap:
    question: str
    """The most typical wording: the one closest to the rest of the group."""
    count: int
    examples: list[str] = field(default_factory=list)


def _word_overlap(questions: list[str]) -> NDArray[np.float64]:
    """Jaccard overlap of the questions' content words (first five letters, no accents)."""
    stems = [{strip_accents(word)[:5] for word in content_words(q)} for q in questions]
    vocabulary = {stem: i for i, stem in enumerate(sorted(set().union(*stems)))}
    present = np.zeros((len(questions), max(len(vocabulary), 1)))
    for row, words in enumerate(stems):
        present[row, [vocabulary[w] for w in words]] = 1
    shared = present @ present.T
    sizes = present.sum(axis=1)
    union = sizes[:, None] + sizes[None, :] - shared
    overlap: NDArray[np.float64] = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    return overlap


def similarity_matrix(vectors: NDArray[np.float32], questions: list[str]) -> NDArray[np.float64]:
    """Meaning and shared words, half each: the embedding alone groups questions by their frame
    ('do you sell …?') rather than by what they ask for."""
    return 0.5 * (vectors @ vectors.T).astype(np.float64) + 0.5 * _word_overlap(questions)


async def group_gaps(questions: list[str], embedder: Embedder, max_examples: int = 5) -> list[Gap]:
    if not questions:
        return []
    similarity = similarity_matrix(await embedder.aencode(questions), questions)
    if len(questions) == 1:
        labels = np.array([1])
    else:
        distance = np.clip(1 - similarity, 0, None)
        np.fill_diagonal(distance, 0)
        tree = linkage(squareform(distance, checks=False), method="average")
        labels = fcluster(tree, t=1 - SAME_GAP, criterion="distance")
    gaps = []
    for label in np.unique(labels):
        members = [int(i) for i in np.flatnonzero(labels == label)]
        typical = max(members, key=lambda i: similarity[i, members].sum())
        others = [questions[i] for i in members if i != typical]
        gaps.append(Gap(questions[typical], len(members), list(dict.fromkeys(others))[:max_examples]))
    return sorted(gaps, key=lambda gap: gap.count, reverse=True)
