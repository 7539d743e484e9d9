"""Classifier benchmark on published datasets: intents, out-of-scope, sentiment, handoff requests.

    python bench/classify.py --data ../shared/datasets [--test DIR] [--json]

Heads are the offline classifiers' own: logistic regressions on the configured sentence embedding and
the text's word and character n-grams (``INTENT_HEAD``, ``SENTIMENT_HEAD`` in agents.classifiers), each
trained here on the dataset's training part only.
Without --test: Banking77 on a stratified 80/20 split of train.csv (and with 10 examples per
intent), CLINC150 trained on train + oos_train and scored on val + oos_val, Portuguese sentiment and
Bitext handoff requests on stratified 80/20 splits of their dev files. With --test DIR: trained on
all of --data and scored on DIR's files of the same formats.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split

from agents.classifiers import INTENT_HEAD, OUT_OF_SCOPE, SENTIMENT_HEAD, EmbeddingHead, asks_for_human
from core.settings import Settings
from knowledge.embeddings import get_embedder

console = Console(stderr=True)
Pairs = list[tuple[str, str]]
OOS_THRESHOLD = 0.35
"""CLINC150's 150 intents spread the probability thinner than a shop's dozen: its own threshold."""


def _csv(path: Path) -> Pairs:
    with path.open() as handle:
        return [(row["text"], row["category"]) for row in csv.DictReader(handle)]


def _jsonl(path: Path, label: str) -> Pairs:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(row["text"], row[label]) for row in rows]


def _split(pairs: Pairs) -> tuple[Pairs, Pairs]:
    texts, labels = zip(*pairs, strict=True)
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=0.2, stratify=labels, random_state=7
    )
    return list(zip(train_x, train_y, strict=True)), list(zip(test_x, test_y, strict=True))


def _few_shot(pairs: Pairs, per_label: int) -> Pairs:
    by_label: dict[str, list[str]] = defaultdict(list)
    for text, label in pairs:
        by_label[label].append(text)
    rng = random.Random(7)
    return [
        (text, label)
        for label, texts in by_label.items()
        for text in rng.sample(texts, min(per_label, len(texts)))
    ]


class Encoder:
    """Embeds each distinct text once per run."""

    def __init__(self, model: str) -> None:
        self.embedder = get_embedder(model)
        self.cache: dict[str, np.ndarray] = {}
        self.seconds = 0.0

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            started = time.perf_counter()
            for text, vector in zip(missing, self.embedder.encode(missing, batch_size=128), strict=True):
                self.cache[text] = vector
            self.seconds += time.perf_counter() - started
        return np.stack([self.cache[t] for t in texts])


def _fit(head: EmbeddingHead, encode: Encoder, train: Pairs) -> EmbeddingHead:
    texts = [t for t, _ in train]
    return head.fit(texts, encode(texts), [label for _, label in train])


def _predict(head: EmbeddingHead, encode: Encoder, test: Pairs) -> list[str]:
    texts = [t for t, _ in test]
    return [p.label for p in head.predict(texts, encode(texts))]


def _intent_head(**overrides: Any) -> EmbeddingHead:
    """The production intent head; only the out-of-scope threshold is the dataset's business."""
    return EmbeddingHead(INTENT_HEAD, **{"out_of_scope_below": None, **overrides})


def _accuracy(head: EmbeddingHead, encode: Encoder, train: Pairs, test: Pairs) -> float:
    predicted = _predict(_fit(head, encode, train), encode, test)
    return float(np.mean([p == gold for p, (_, gold) in zip(predicted, test, strict=True)]))


def banking77(encode: Encoder, data: Path, test_dir: Path | None) -> dict[str, float]:
    pairs = _csv(data / "banking77/train.csv")
    train, test = (pairs, _csv(test_dir / "banking77/test.csv")) if test_dir else _split(pairs)
    return {
        "accuracy": round(_accuracy(_intent_head(), encode, train, test), 4),
        "accuracy_10shot": round(_accuracy(_intent_head(), encode, _few_shot(train, 10), test), 4),
    }


def clinc150(encode: Encoder, data: Path, test_dir: Path | None) -> dict[str, float]:
    dev = json.loads((data / "clinc150/dev.json").read_text())
    train = [(t, label) for t, label in dev["train"] + dev["oos_train"]]
    if test_dir:
        held = json.loads((test_dir / "clinc150/test.json").read_text())
        in_scope, oos = held["test"], held["oos_test"]
    else:
        in_scope, oos = dev["val"], dev["oos_val"]
    head = _fit(
        _intent_head(out_of_scope_below=OOS_THRESHOLD),
        encode,
        [(t, OUT_OF_SCOPE if label == "oos" else label) for t, label in train],
    )
    in_pred = _predict(head, encode, [(t, label) for t, label in in_scope])
    oos_pred = _predict(head, encode, [(t, label) for t, label in oos])
    return {
        "in_scope_accuracy": round(
            float(np.mean([p == g for p, (_, g) in zip(in_pred, in_scope, strict=True)])), 4
        ),
        "oos_recall": round(float(np.mean([p == OUT_OF_SCOPE for p in oos_pred])), 4),
    }


def sentiment_pt(encode: Encoder, data: Path, test_dir: Path | None) -> dict[str, float]:
    pairs = _jsonl(data / "sentiment_pt/dev.jsonl", "label")
    train, test = (
        (pairs, _jsonl(test_dir / "sentiment_pt/holdout.jsonl", "label")) if test_dir else _split(pairs)
    )
    predicted = _predict(_fit(EmbeddingHead(SENTIMENT_HEAD), encode, train), encode, test)
    return {"macro_f1": round(float(f1_score([g for _, g in test], predicted, average="macro")), 4)}


def handoff(encode: Encoder, data: Path, test_dir: Path | None) -> dict[str, float]:
    pairs = _jsonl(data / "bitext_support/dev.jsonl", "intent")
    train, test = (
        (pairs, _jsonl(test_dir / "bitext_support/holdout.jsonl", "intent")) if test_dir else _split(pairs)
    )
    target = "contact_human_agent"
    head = _predict(_fit(_intent_head(), encode, train), encode, test)
    # As in production, an explicit request for a person is one whatever the head says.
    predicted = [target if asks_for_human(t) else p for p, (t, _) in zip(head, test, strict=True)]
    hits = sum(p == target and g == target for p, (_, g) in zip(predicted, test, strict=True))
    said = sum(p == target for p in predicted)
    actual = sum(g == target for _, g in test)
    return {"precision": round(hits / max(said, 1), 4), "recall": round(hits / max(actual, 1), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--test", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    encode = Encoder(Settings().embedding_model)
    report: dict[str, Any] = {}
    for name, run in (
        ("banking77", banking77),
        ("clinc150", clinc150),
        ("sentiment_pt", sentiment_pt),
        ("handoff", handoff),
    ):
        console.print(f"{name}…")
        report[name] = run(encode, args.data, args.test)
    split = "held-out" if args.test else "dev"
    table = Table(
        title=f"Classifiers on {split} data ({Settings().embedding_model} + n-grams, logistic regression)"
    )
    table.add_column("dataset")
    table.add_column("metric")
    table.add_column("value")
    for dataset, metrics in report.items():
        for metric, value in metrics.items():
            table.add_row(dataset, metric, f"{value:.3f}")
    Console().print(table)
    console.print(f"embedding time {encode.seconds:.0f}s for {len(encode.cache)} texts")
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
