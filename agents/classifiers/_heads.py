"""Classifier heads: a logistic regression over a sentence embedding and the text's own n-grams.

The embedding carries meaning (in English above all: the packaged model is English-only); TF-IDF of
words and of character n-grams, taken lowercase and without accents, carries the exact wording in any
language, typos and slang included; the lexicon score adds intensity that few examples can teach. The
regression's probability doubles as a confidence, so a message that no label fits is out of scope.

Training goes through scikit-learn. Predicting one message is done here, with a dictionary look-up per
n-gram and a few small dot products, in a fraction of a millisecond: the graph classifies every turn.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from agents.classifiers._lexicon import lexicon_score
from knowledge.text import normalize

OUT_OF_SCOPE = "out_of_scope"
Vectors = NDArray[np.float32]
_WORD = re.compile(r"\w+")


def word_ngrams(plain: str) -> list[str]:
    """Words and word pairs of a normalised text."""
    tokens = _WORD.findall(plain)
    return tokens + [f"{a} {b}" for a, b in itertools.pairwise(tokens)]


def char_ngrams(plain: str, low: int = 2, high: int = 5) -> list[str]:
    """Character 2- to 5-grams within each word, padded by a space (scikit-learn's ``char_wb``)."""
    grams: list[str] = []
    for token in _WORD.findall(plain):
        padded = f" {token} "
        for n in range(low, min(high, len(padded)) + 1):
            grams.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return grams


@functools.lru_cache(maxsize=64)
def _ngrams(analyzer: Callable[[str], list[str]], plain: str) -> list[str]:
    """The intent and sentiment heads read the same n-grams of the same message: made once."""
    return analyzer(plain)


@dataclass(frozen=True)
class Prediction:
    label: str
    """The best label, or ``out_of_scope`` when its probability is below the head's threshold."""
    score: float
    """The best label's probability."""
    probabilities: dict[str, float]


@dataclass(frozen=True)
class HeadConfig:
    """Which features a head reads, and how strongly it is regularised."""

    c: float = 10.0
    """Inverse regularisation of the logistic regression."""
    words: bool = False
    """TF-IDF of words and word pairs."""
    chars: bool = False
    """TF-IDF of character 2-5-grams within words."""
    lexicon: bool = False
    """The sentiment lexicon's score, as one more feature."""
    embedding_weight: float = 1.0
    """Scale of the embedding against the TF-IDF blocks (each a unit vector); 0 leaves it out."""
    out_of_scope_below: float | None = None
    """Below this top probability the answer is ``out_of_scope`` (None: always a label)."""


class _TextBlock:
    """One fitted TF-IDF vocabulary and its rows of the regression's weights."""

    def __init__(self, vectorizer: TfidfVectorizer, analyzer: Callable[[str], list[str]]) -> None:
        self.vectorizer = vectorizer
        self.analyzer = analyzer
        self.vocabulary: dict[str, int] = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
        self.idf: NDArray[np.float64] = np.asarray(vectorizer.idf_, dtype=np.float64)
        self.weights: NDArray[np.float64] = np.zeros((len(self.vocabulary), 0))

    @property
    def width(self) -> int:
        return len(self.vocabulary)

    def logits(self, plain: str) -> NDArray[np.float64] | None:
        """This block's share of the logits for one text: its TF-IDF vector times the weights."""
        vocabulary = self.vocabulary
        counts = Counter(i for i in map(vocabulary.get, _ngrams(self.analyzer, plain)) if i is not None)
        if not counts:
            return None
        index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values = tf * self.idf[index]
        values /= math.sqrt(float(values @ values))
        return np.asarray(values @ self.weights[index])


class EmbeddingHead:
    """A multinomial logistic regression on the embedding, TF-IDF blocks and lexicon score."""

    def __init__(self, config: HeadConfig | None = None, **overrides: Any) -> None:
        self.config = replace(config or HeadConfig(), **overrides)
        self.classes: list[str] = []
        self._blocks: list[_TextBlock] = []
        self._dense_weights: NDArray[np.float64] = np.zeros((0, 0))
        self._intercept: NDArray[np.float64] = np.zeros(0)

    @property
    def out_of_scope_below(self) -> float | None:
        return self.config.out_of_scope_below

    def _dense(self, texts: Sequence[str], vectors: Vectors) -> NDArray[np.float64]:
        columns: list[NDArray[np.float64]] = []
        if self.config.embedding_weight:
            columns.append(
                np.atleast_2d(np.asarray(vectors, dtype=np.float64)) * self.config.embedding_weight
            )
        if self.config.lexicon:
            columns.append(np.array([[lexicon_score(t)] for t in texts], dtype=np.float64))
        return np.hstack(columns) if columns else np.zeros((len(texts), 0))

    def fit(
        self,
        texts: Sequence[str],
        vectors: Vectors,
        labels: Sequence[str],
        weights: Sequence[float] | NDArray[np.float64] | None = None,
    ) -> EmbeddingHead:
        """Train on labelled texts and their embeddings; ``weights`` counts some examples more."""
        plain = [normalize(t) for t in texts]
        analyzers = [(word_ngrams, 1, self.config.words), (char_ngrams, 2, self.config.chars)]
        self._blocks = []
        for analyzer, min_df, wanted in analyzers:
            if wanted:
                vectorizer = TfidfVectorizer(analyzer=analyzer, min_df=min_df, sublinear_tf=True)
                vectorizer.fit(plain)
                self._blocks.append(_TextBlock(vectorizer, analyzer))
        dense = self._dense(texts, vectors)
        features = sparse.hstack(
            [sparse.csr_matrix(dense), *(b.vectorizer.transform(plain) for b in self._blocks)], format="csr"
        )
        model = LogisticRegression(C=self.config.c, max_iter=3000)
        # lbfgs on a sparse matrix gains nothing from BLAS threads and loses a lot to their
        # contention (about 6x slower on two cores): one thread.
        with threadpool_limits(1):
            model.fit(features, list(labels), sample_weight=None if weights is None else np.asarray(weights))
        weights = np.asarray(model.coef_, dtype=np.float64).T
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if weights.shape[1] == 1:  # two labels: scikit-learn keeps one column; make it a softmax over two
            weights = np.hstack([-weights / 2, weights / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        self.classes = [str(c) for c in model.classes_]
        self._intercept = intercept
        start = dense.shape[1]
        self._dense_weights = np.ascontiguousarray(weights[:start])
        for block in self._blocks:
            block.weights = np.ascontiguousarray(weights[start : start + block.width])
            start += block.width
        return self

    def _logits_one(self, text: str, vector: Vectors) -> NDArray[np.float64]:
        logits = self._dense([text], vector)[0] @ self._dense_weights + self._intercept
        plain = normalize(text)
        for block in self._blocks:
            part = block.logits(plain)
            if part is not None:
                logits = logits + part
        return np.asarray(logits)

    def probabilities(self, texts: Sequence[str], vectors: Vectors) -> NDArray[np.float64]:
        """One row per text, one column per label of ``classes``."""
        logits = np.vstack(
            [self._logits_one(t, v) for t, v in zip(texts, np.atleast_2d(vectors), strict=True)]
        )
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def _prediction(self, row: NDArray[np.float64]) -> Prediction:
        best = int(row.argmax())
        score = float(row[best])
        label = self.classes[best]
        below = self.config.out_of_scope_below
        if below is not None and score < below:
            label = OUT_OF_SCOPE
        return Prediction(label, score, {c: float(p) for c, p in zip(self.classes, row, strict=True)})

    def predict(self, texts: Sequence[str], vectors: Vectors) -> list[Prediction]:
        return [self._prediction(row) for row in self.probabilities(texts, vectors)]

    def predict_one(self, text: str, vector: Vectors) -> Prediction:
        return self._prediction(self.probabilities([text], vector)[0])
