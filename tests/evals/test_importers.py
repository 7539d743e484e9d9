"""``atende eval import``: published datasets become suites, with the training split or documents they need."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from agents.classifiers import parse_labelled_file
from evals.importers import import_sentiment, import_stackfaq
from evals.suite import ClassificationCase, RetrievalCase, load_suites
from tests.evals.runs import run_eval

README = Path(__file__).parents[2] / "README.md"


def test_banking77_becomes_a_suite_and_a_training_file_with_tenant_labels(tmp_path: Path) -> None:
    data = tmp_path / "banking77"
    data.mkdir()
    with (data / "train.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "category"])
        for i in range(10):
            writer.writerow([f"where is my card {i}", "card_arrival"])
            writer.writerow([f"my refund is missing {i}", "Refund_not_showing_up"])
            writer.writerow([f"payment was reverted {i}", "reverted_card_payment?"])
    out = tmp_path / "suites" / "banking77.jsonl"

    result = run_eval(tmp_path, "import", "banking77", str(data), "--out", str(out))

    assert result.returncode == 0, result.stderr
    cases = [c.case for c in load_suites([out])]
    assert len(cases) == 6 and all(isinstance(c, ClassificationCase) for c in cases)
    labels = {c.expect.intent for c in cases if isinstance(c, ClassificationCase)}
    assert labels == {"card_arrival", "refund_not_showing_up", "reverted_card_payment"}
    training = parse_labelled_file(out.parent / "banking77.train.csv")
    assert len(training) == 24
    assert not {c.text for c in cases if isinstance(c, ClassificationCase)} & {r.text for r in training}
    assert (
        "atende classify train --tenant banking77 --without-builtin-intents "
        f"{out.parent / 'banking77.train.csv'}" in result.stdout
    )


def test_stackfaq_becomes_documents_and_a_retrieval_suite(tmp_path: Path) -> None:
    data = tmp_path / "stackfaq"
    data.mkdir()
    pool = [
        {"id": "t001-a01", "thread_id": "t001", "title": "Strikethrough on GitHub?", "text": "Use ~~text~~."},
        {"id": "t002-a01", "thread_id": "t002", "title": "Delete Facebook?", "text": "Go to settings."},
    ]
    questions = [{"question": "cross out text in github", "answer_ids": ["t001-a01"], "thread_id": "t001"}]
    (data / "pool.jsonl").write_text("".join(json.dumps(p) + "\n" for p in pool))
    (data / "dev_questions.jsonl").write_text("".join(json.dumps(q) + "\n" for q in questions))
    out = tmp_path / "stackfaq.jsonl"

    imported = import_stackfaq(data, out)

    documents = tmp_path / "stackfaq-documents"
    assert imported.documents == documents and imported.cases == 1
    assert sorted(p.name for p in documents.iterdir()) == ["t001-a01.md", "t002-a01.md"]
    assert (documents / "t001-a01.md").read_text() == "# Strikethrough on GitHub?\n\nUse ~~text~~.\n"
    [case] = [c.case for c in load_suites([out])]
    assert isinstance(case, RetrievalCase) and case.gold_documents == ["t001-a01.md"]


def test_a_folder_without_the_dataset_is_a_usage_error(tmp_path: Path) -> None:
    result = run_eval(tmp_path, "import", "clinc150", str(tmp_path), "--out", str(tmp_path / "x.jsonl"))
    assert result.returncode == 2
    assert "no dev.json" in result.stderr


def test_the_readme_suite_examples_are_valid_suites(tmp_path: Path) -> None:
    section = README.read_text().split("## Evals", 1)[1].split("\n## ", 1)[0]
    [json_block] = re.findall(r"```json\n(.*?)```", section, re.S)
    lines: list[str] = []
    for line in json_block.splitlines():
        if line.startswith("{"):
            lines.append(line)
        else:
            lines[-1] += line.strip()
    (tmp_path / "readme.jsonl").write_text("\n".join(lines) + "\n")
    [yaml_block] = re.findall(r"```yaml\n(.*?)```", section, re.S)
    (tmp_path / "readme.yaml").write_text(yaml_block)
    assert len(load_suites([tmp_path / "readme.jsonl"])) == 4
    assert len(load_suites([tmp_path / "readme.yaml"])) == 1


def test_sentiment_training_rows_fit_what_classify_train_accepts(tmp_path: Path) -> None:
    rows = [
        {"id": f"r{i}", "text": ("muito bom " * (300 if i == 0 else 2)) + str(i), "label": label}
        for i, label in enumerate(["positive", "neutral", "negative"] * 5)
    ]
    (tmp_path / "dev.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))

    imported = import_sentiment(tmp_path, tmp_path / "sentiment.jsonl")

    assert imported.training is not None and imported.cases == 3
    training = parse_labelled_file(imported.training)
    assert len(training) == 12 and {r.intent for r in training} == {"review"}
    assert max(len(r.text) for r in training) <= 2000
