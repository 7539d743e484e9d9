"""A tenant's own labelled examples: read from a file, stored, and learned on top of the built-in ones.

``atende classify train --tenant SLUG FILE`` validates the whole file first, then replaces the tenant's
examples in one transaction. The graph asks ``tenant_classifier`` on every turn: one small query tells
whether the examples changed since the heads were trained in this process; only then are they retrained.
"""

from __future__ import annotations

import asyncio
import csv
import datetime
import json
import re
import uuid
from collections import Counter, OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import msgspec
import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from agents.classifiers._classifier import (
    SENTIMENTS,
    Classifier,
    Examples,
    builtin_classifier,
    cached_builtin_classifier,
)
from agents.classifiers.models import ClassifierExample
from core.errors import InvalidInputError
from knowledge.embeddings import Embedder

LABEL = re.compile(r"^[a-z][a-z0-9_]{0,99}$")
MAX_TEXT_CHARS = 2000
MAX_EXAMPLES = 20_000
CACHED_TENANTS = 256
FIELDS = ("text", "intent", "sentiment")


class LabelledFileError(InvalidInputError):
    """A row of a labelled file is wrong: names the file, the line and the field."""

    def __init__(self, path: Path, line: int | None, field: str, reason: str) -> None:
        where = f"{path.name} line {line}" if line is not None else path.name
        super().__init__(f"{where}, {field}", reason)
        self.path = path
        self.line = line
        self.column = field


class ClassifierOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """How a tenant's classifier learns; set with its examples by ``atende classify train``."""

    builtin_intents: bool = True
    """Learn the built-in support intents too; off when the tenant's own intents cover its customers."""
    builtin_sentiments: bool = True
    """Learn from the built-in sentiment examples too; off when the tenant labelled enough of its own."""
    out_of_scope_below: Annotated[float, msgspec.Meta(gt=0, lt=1)] | None = None
    """The top intent probability below which a message is out of scope (None: the built-in head's).
    Many intents spread the probability thinner, so they call for a higher one."""


def classifier_options(raw: dict[str, Any] | None) -> ClassifierOptions:
    return msgspec.convert(raw or {}, ClassifierOptions)


@dataclass(frozen=True)
class LabelledExample:
    text: str
    intent: str
    sentiment: str | None = None


def _checked(path: Path, line: int, row: dict[str, object]) -> LabelledExample:
    unknown = sorted(set(row) - set(FIELDS))
    if unknown:
        raise LabelledFileError(path, line, unknown[0], f"unknown field (use {', '.join(FIELDS)})")
    values: dict[str, str] = {}
    for name in FIELDS:
        value = row.get(name)
        if value is not None and not isinstance(value, str):
            raise LabelledFileError(path, line, name, "must be text")
        values[name] = (value or "").strip()
    text = " ".join(values["text"].split())
    if not text:
        raise LabelledFileError(path, line, "text", "is empty")
    if len(text) > MAX_TEXT_CHARS:
        raise LabelledFileError(path, line, "text", f"is longer than {MAX_TEXT_CHARS} characters")
    intent = values["intent"]
    if not intent:
        raise LabelledFileError(path, line, "intent", "is empty")
    if not LABEL.match(intent):
        raise LabelledFileError(
            path, line, "intent", f"{intent!r} is not a label: use lowercase letters, digits and _"
        )
    sentiment = values["sentiment"] or None
    if sentiment is not None and sentiment not in SENTIMENTS:
        raise LabelledFileError(
            path, line, "sentiment", f"{sentiment!r} is not one of {', '.join(SENTIMENTS)}"
        )
    return LabelledExample(text, intent, sentiment)


def _csv_rows(path: Path, content: str) -> list[tuple[int, dict[str, object]]]:
    reader = csv.DictReader(content.splitlines())
    header = [name.strip() for name in reader.fieldnames or []]
    for required in ("text", "intent"):
        if required not in header:
            raise LabelledFileError(path, 1, required, "missing from the header (text,intent[,sentiment])")
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, object]]] = []
    for row in reader:
        line = reader.line_num
        if None in row:
            raise LabelledFileError(
                path, line, "text", "the row has more columns than the header (quote commas)"
            )
        if any((value or "").strip() for value in row.values()):
            rows.append((line, dict(row)))
    return rows


def _jsonl_rows(path: Path, content: str) -> list[tuple[int, dict[str, object]]]:
    rows: list[tuple[int, dict[str, object]]] = []
    for line, raw in enumerate(content.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LabelledFileError(path, line, "json", f"not valid JSON ({exc.msg})") from exc
        if not isinstance(row, dict):
            raise LabelledFileError(path, line, "json", 'expected an object like {"text": …, "intent": …}')
        rows.append((line, row))
    return rows


def parse_labelled_file(path: Path, options: ClassifierOptions | None = None) -> list[LabelledExample]:
    """Every row of a CSV (header ``text,intent[,sentiment]``) or JSONL file, checked; the first bad
    row raises ``LabelledFileError`` naming the file, line and field. Exact repeats count once.
    Without the built-in examples of a task, the file must teach that task two labels at least."""
    try:
        content = path.read_text("utf-8-sig")
    except FileNotFoundError as exc:
        raise LabelledFileError(path, None, "file", "not found") from exc
    except UnicodeDecodeError as exc:
        raise LabelledFileError(path, None, "file", "is not UTF-8 text") from exc
    is_csv = path.suffix.lower() == ".csv" or (
        path.suffix.lower() not in {".jsonl", ".json", ".ndjson"} and not content.lstrip().startswith("{")
    )
    rows = _csv_rows(path, content) if is_csv else _jsonl_rows(path, content)
    examples = list(dict.fromkeys(_checked(path, line, row) for line, row in rows))
    if not examples:
        raise LabelledFileError(path, None, "file", "has no examples")
    if len(examples) > MAX_EXAMPLES:
        raise LabelledFileError(path, None, "file", f"has more than {MAX_EXAMPLES} examples")
    options = options or ClassifierOptions()
    if not options.builtin_intents and len({e.intent for e in examples}) < 2:
        raise LabelledFileError(
            path, None, "intent", "needs two intents or more to learn without the built-in ones"
        )
    if not options.builtin_sentiments and len({e.sentiment for e in examples if e.sentiment}) < 2:
        raise LabelledFileError(
            path,
            None,
            "sentiment",
            "needs two sentiment labels or more to learn without the built-in examples",
        )
    return examples


@dataclass(frozen=True)
class ExampleCounts:
    intents: dict[str, int]
    sentiments: dict[str, int]


async def replace_tenant_examples(
    session: AsyncSession, tenant_id: uuid.UUID, rows: list[LabelledExample]
) -> ExampleCounts:
    """The tenant's examples become exactly ``rows``, all or nothing (a savepoint within the caller's
    transaction)."""
    async with session.begin_nested():
        await session.execute(delete(ClassifierExample).where(ClassifierExample.tenant_id == tenant_id))
        session.add_all(
            [ClassifierExample(tenant_id=tenant_id, task="intent", label=r.intent, text=r.text) for r in rows]
            + [
                ClassifierExample(tenant_id=tenant_id, task="sentiment", label=r.sentiment, text=r.text)
                for r in rows
                if r.sentiment
            ]
        )
    return ExampleCounts(
        intents=dict(Counter(r.intent for r in rows)),
        sentiments=dict(Counter(r.sentiment for r in rows if r.sentiment)),
    )


async def tenant_examples(session: AsyncSession, tenant_id: uuid.UUID) -> list[ClassifierExample]:
    found = await session.scalars(
        select(ClassifierExample)
        .where(ClassifierExample.tenant_id == tenant_id)
        .order_by(ClassifierExample.created_at, ClassifierExample.id)
    )
    return list(found)


async def _encoded(embedder: Embedder, rows: list[ClassifierExample], task: str) -> Examples:
    chosen = [r for r in rows if r.task == task]
    texts = [r.text for r in chosen]
    vectors = await embedder.aencode(texts) if texts else np.zeros((0, embedder.dimension), np.float32)
    return Examples(texts, [r.label for r in chosen], vectors)


Version = tuple[int, datetime.datetime | None, ClassifierOptions]
_trained: OrderedDict[tuple[str, uuid.UUID], tuple[Version, Classifier]] = OrderedDict()
_training: dict[tuple[str, uuid.UUID], asyncio.Lock] = {}


async def _builtin(embedder: Embedder) -> Classifier:
    cached = cached_builtin_classifier(embedder)
    return cached if cached is not None else await asyncio.to_thread(builtin_classifier, embedder)


async def tenant_classifier(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    embedder: Embedder,
    options: ClassifierOptions | None = None,
) -> Classifier:
    """Built-in intents plus the tenant's; retrained only when the tenant's examples change."""
    options = options or ClassifierOptions()
    base = await _builtin(embedder)
    count, latest = (
        await session.execute(
            select(func.count(), func.max(ClassifierExample.updated_at)).where(
                ClassifierExample.tenant_id == tenant_id
            )
        )
    ).one()
    if not count:
        return base
    key, version = (embedder.model_name, tenant_id), (int(count), latest, options)
    lock = _training.setdefault(key, asyncio.Lock())
    async with lock:
        cached = _trained.get(key)
        if cached is not None and cached[0] == version:
            _trained.move_to_end(key)
            return cached[1]
        rows = await tenant_examples(session, tenant_id)
        intents = await _encoded(embedder, rows, "intent")
        sentiments = await _encoded(embedder, rows, "sentiment")
        classifier = await asyncio.to_thread(
            base.extended,
            intents,
            sentiments,
            builtin_intents=options.builtin_intents,
            builtin_sentiments=options.builtin_sentiments,
            out_of_scope_below=options.out_of_scope_below,
        )
        _trained[key] = (version, classifier)
        while len(_trained) > CACHED_TENANTS:
            _trained.popitem(last=False)
        return classifier


@dataclass(frozen=True)
class CrossValidation:
    folds: int
    accuracy: float
    """Share of the tenant's intent examples whose intent a classifier trained without them got right."""
    per_label: dict[str, float]


def cross_validate(
    base: Classifier, intents: Examples, folds: int = 5, options: ClassifierOptions | None = None
) -> CrossValidation | None:
    """k-fold accuracy on the tenant's intent examples, each fold trained on the built-in examples and
    the other folds (the ``asks_for_human`` rule included, as in production). None below 2 examples."""
    if len(intents) < 2:
        return None
    options = options or ClassifierOptions()
    smallest = min(Counter(intents.labels).values())
    splits = min(folds, len(intents))
    splitter: StratifiedKFold | KFold = (
        StratifiedKFold(splits, shuffle=True, random_state=7)
        if smallest >= splits
        else KFold(splits, shuffle=True, random_state=7)
    )
    predicted = [""] * len(intents)
    no_sentiments = Examples([], [], np.zeros((0, intents.vectors.shape[1]), np.float32))
    for train, test in splitter.split(intents.texts, intents.labels):
        fold = Examples(
            [intents.texts[i] for i in train], [intents.labels[i] for i in train], intents.vectors[train]
        )
        classifier = base.extended(
            fold,
            no_sentiments,
            builtin_intents=options.builtin_intents,
            builtin_sentiments=options.builtin_sentiments,
            out_of_scope_below=options.out_of_scope_below,
        )
        for i in test:
            predicted[i] = classifier.classify(intents.texts[i], intents.vectors[i]).intent
    right = [p == gold for p, gold in zip(predicted, intents.labels, strict=True)]
    per_label = {
        label: round(
            float(np.mean([r for r, gold in zip(right, intents.labels, strict=True) if gold == label])), 4
        )
        for label in sorted(set(intents.labels))
    }
    return CrossValidation(splits, round(float(np.mean(right)), 4), per_label)
