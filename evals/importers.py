"""Published datasets as suites, so a team can benchmark the defaults, or a trained tenant, in one command.

* ``banking77`` (``train.csv``), ``clinc150`` (``dev.json``), ``sentiment`` (``sentiment_pt/dev.jsonl``):
  classification suites. The split is the one ``bench/classify.py`` makes (stratified 80/20,
  ``random_state=7``; CLINC150 keeps its own train / val split), and the training part is written next to
  the suite as ``<suite>.train.csv`` for ``atende classify train``. Run the suite on an untrained tenant to
  measure the built-in classifier, or train a tenant first to reproduce the bench's figures.
* ``stackfaq`` (``pool.jsonl`` and ``*_questions.jsonl``): every answer of the pool as a Markdown document
  (as ``bench/retrieval.py`` ingests them) in ``<suite>-documents/``, and a retrieval suite whose gold
  documents are the question's answers.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import AtendeError, ErrorCode
from evals.suite import ClassificationCase, ClassificationExpect, RetrievalCase, dump_jsonl

Pairs = list[tuple[str, str]]
SPLIT_SEED = 7
TRAINING_TEXT_CHARS = 2000
TEST_SHARE = 0.2
BENCH_INTENTS = "--without-builtin-intents"
"""As ``bench/classify.py`` trains: on the dataset's own labels alone (``--without-builtin-sentiments``
for sentiment). CLINC150's 150 intents spread the probability thinner: its out-of-scope threshold is
the bench's 0.35."""


class DatasetError(AtendeError):
    """The dataset is not where, or not what, the importer expects."""

    code = ErrorCode.INVALID_INPUT


@dataclass
class Imported:
    suite: Path
    cases: int
    training: Path | None = None
    training_rows: int = 0
    documents: Path | None = None
    next_steps: list[str] = field(default_factory=list)


def _find(path: Path, *names: str) -> Path:
    """``path`` itself when it is a file, else the first of ``names`` inside it (or its subfolders)."""
    if path.is_file():
        return path
    for name in names:
        found = sorted(path.glob(name)) or sorted(path.glob(f"*/{name}"))
        if found:
            return found[0]
    raise DatasetError(f"{path}: no {' or '.join(names)} found")


def _jsonl(path: Path) -> list[dict[str, Any]]:
    try:
        return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: line {exc.lineno} is not JSON") from exc


def _split(pairs: Pairs) -> tuple[Pairs, Pairs]:
    """The bench's split: stratified, 20 % held for the suite, ``random_state=7``."""
    from sklearn.model_selection import train_test_split

    texts, labels = zip(*pairs, strict=True)
    train_x, test_x, train_y, test_y = train_test_split(
        texts, labels, test_size=TEST_SHARE, stratify=labels, random_state=SPLIT_SEED
    )
    return list(zip(train_x, train_y, strict=True)), list(zip(test_x, test_y, strict=True))


def label(name: str) -> str:
    """A dataset's label as a tenant label (lowercase letters, digits and _): ``Refund_not_showing_up``
    becomes ``refund_not_showing_up``, ``reverted_card_payment?`` ``reverted_card_payment``."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
    return cleaned if re.match(r"^[a-z]", cleaned) else f"label_{cleaned}"


def _training_file(out: Path) -> Path:
    return out.with_name(f"{out.name.split('.')[0]}.train.csv")


def _clipped(text: str) -> str:
    """``atende classify train`` refuses texts over TRAINING_TEXT_CHARS: keep their start, at a word."""
    text = " ".join(text.split())
    if len(text) <= TRAINING_TEXT_CHARS:
        return text
    return text[:TRAINING_TEXT_CHARS].rsplit(" ", 1)[0]


def _write_training(out: Path, rows: list[dict[str, str]]) -> Path:
    rows = [{**row, "text": _clipped(row["text"])} for row in rows]
    path = _training_file(out)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _classification(
    name: str,
    out: Path,
    train: Pairs,
    test: Pairs,
    task: str,
    training_rows: Callable[[Pairs], list[dict[str, str]]],
    train_options: str,
) -> Imported:
    cases = [
        ClassificationCase(
            id=f"{name}-{index:05d}",
            text=text,
            expect=ClassificationExpect(intent=gold)
            if task == "intent"
            else ClassificationExpect(sentiment=gold),
            tags=[name],
        )
        for index, (text, gold) in enumerate(test, start=1)
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(dump_jsonl(cases))
    imported = Imported(suite=out, cases=len(cases))
    steps = [f"atende tenant create {name}"]
    if train:
        imported.training = _write_training(out, training_rows(train))
        imported.training_rows = len(train)
        steps.append(f"atende classify train --tenant {name} {train_options} {imported.training}")
    steps.append(f"atende eval run {out} --tenant {name} --json {name}.json --html {name}.html")
    imported.next_steps = steps
    return imported


def _intent_rows(train: Pairs) -> list[dict[str, str]]:
    return [{"text": text, "intent": intent} for text, intent in train]


def import_banking77(path: Path, out: Path, *, split: bool = True) -> Imported:
    source = _find(path, "train.csv", "banking77/train.csv")
    with source.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or not {"text", "category"} <= set(rows[0]):
        raise DatasetError(f"{source}: expected a CSV with the header text,category")
    pairs = [(row["text"], label(row["category"])) for row in rows]
    train, test = _split(pairs) if split else ([], pairs)
    return _classification("banking77", out, train, test, "intent", _intent_rows, BENCH_INTENTS)


def import_clinc150(path: Path, out: Path, *, split: bool = True) -> Imported:
    """Trained on ``train`` + ``oos_train``, scored on ``val`` + ``oos_val``; ``oos`` is ``out_of_scope``."""
    source = _find(path, "dev.json", "clinc150/dev.json", "data_full.json")
    data = json.loads(source.read_text("utf-8"))
    if not isinstance(data, dict) or "val" not in data:
        raise DatasetError(f"{source}: expected CLINC150's object with train, val, oos_train and oos_val")

    def pairs(*parts: str) -> Pairs:
        return [
            (t, "out_of_scope" if g == "oos" else label(g)) for part in parts for t, g in data.get(part, [])
        ]

    train = pairs("train", "oos_train") if split else []
    test = pairs("val", "oos_val") if split else pairs("train", "oos_train", "val", "oos_val")
    return _classification(
        "clinc150", out, train, test, "intent", _intent_rows, f"{BENCH_INTENTS} --out-of-scope-below 0.35"
    )


def import_sentiment(path: Path, out: Path, *, split: bool = True) -> Imported:
    """Portuguese product reviews (B2W): every training row has the intent ``review``, as a labelled file
    needs one; a tenant trained on it is a benchmark tenant, not a production one."""
    source = _find(path, "dev.jsonl", "sentiment_pt/dev.jsonl")
    rows = _jsonl(source)
    if not rows or not {"text", "label"} <= set(rows[0]):
        raise DatasetError(f'{source}: expected JSONL rows like {{"text": …, "label": "negative"}}')
    pairs = [(str(row["text"]), str(row["label"])) for row in rows]
    train, test = _split(pairs) if split else ([], pairs)

    def training(rows: Pairs) -> list[dict[str, str]]:
        return [{"text": text, "intent": "review", "sentiment": gold} for text, gold in rows]

    return _classification(
        "sentiment", out, train, test, "sentiment", training, "--without-builtin-sentiments"
    )


def _markdown(entry: dict[str, Any]) -> str:
    return f"# {entry['title']}\n\n{entry['text']}\n"


def import_stackfaq(path: Path, out: Path, *, questions: str = "dev") -> Imported:
    folder = path if path.is_dir() else path.parent
    pool = _jsonl(_find(folder, "pool.jsonl"))
    asked = _jsonl(_find(folder, f"{questions}_questions.jsonl", "*_questions.jsonl"))
    documents = out.with_name(f"{out.name.split('.')[0]}-documents")
    documents.mkdir(parents=True, exist_ok=True)
    for entry in pool:
        (documents / f"{entry['id']}.md").write_text(_markdown(entry), encoding="utf-8")
    cases = [
        RetrievalCase(
            id=f"stackfaq-{index:04d}",
            query=question["question"],
            gold_documents=[f"{answer}.md" for answer in question["answer_ids"]],
            tags=[question["thread_id"]],
        )
        for index, question in enumerate(asked, start=1)
    ]
    out.write_bytes(dump_jsonl(cases))
    return Imported(
        suite=out,
        cases=len(cases),
        documents=documents,
        next_steps=[
            "atende tenant create stackfaq",
            f"atende kb ingest {documents} --tenant stackfaq",
            f"atende eval run {out} --tenant stackfaq --json stackfaq.json --html stackfaq.html",
        ],
    )


IMPORTERS: dict[str, Callable[..., Imported]] = {
    "banking77": import_banking77,
    "clinc150": import_clinc150,
    "sentiment": import_sentiment,
    "stackfaq": import_stackfaq,
}
