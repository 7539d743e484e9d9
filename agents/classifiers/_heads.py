"""Classifier heads trained on sentence embeddings: the offline intent and sentiment models.

A logistic regression on top of the embedding model learns from a few examples per label; its
probability doubles as a confidence, so a question no label fits can be called out of scope.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression

OUT_OF_SCOPE = "out_of_scope"


@dataclass(frozen=True)
class Prediction:
    label: str
    score: float


class EmbeddingHead:
    def __init__(self, c: float = 10.0, out_of_scope_below: float | None = None) -> None:
        self._model = LogisticRegression(C=c, max_iter=2000)
        self.out_of_scope_below = out_of_scope_below
        """Below this top probability the answer is ``out_of_scope`` (None: always a label)."""

    def fit(self, vectors: NDArray[np.float32], labels: list[str]) -> EmbeddingHead:
        self._model.fit(vectors, labels)
        return self

    def predict(self, vectors: NDArray[np.float32]) -> list[Prediction]:
        probabilities = self._model.predict_proba(vectors)
        best = probabilities.argmax(axis=1)
        classes = self._model.classes_
        predictions = []
        for row, index in enumerate(best):
            score = float(probabilities[row, index])
            label = str(classes[index])
            if self.out_of_scope_below is not None and score < self.out_of_scope_below:
                label = OUT_OF_SCOPE
            predictions.append(Prediction(label, score))
        return predictions
