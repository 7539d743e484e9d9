"""Training a tenant's classifiers on its own examples."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from core.accounts import get_tenant
from core.settings import get_settings
from runtime.cli._run import err, run_async


@click.group()
def classify() -> None:
    """Intent and sentiment classifiers."""


@classify.command("train")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--tenant", "tenant_slug", required=True)
@click.option(
    "--without-builtin-intents",
    is_flag=True,
    help="Learn the file's intents only, not the built-in support intents (the file needs two or more).",
)
@click.option(
    "--without-builtin-sentiments",
    is_flag=True,
    help="Learn sentiment from the file's labels only, not the built-in examples.",
)
@click.option(
    "--out-of-scope-below",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    help="Top intent probability below which a message is out of scope (default 0.25).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@run_async
async def classify_train(
    file: Path,
    tenant_slug: str,
    without_builtin_intents: bool,
    without_builtin_sentiments: bool,
    out_of_scope_below: float | None,
    as_json: bool,
) -> None:
    """Replace a tenant's labelled examples with FILE (CSV text,intent[,sentiment] or JSONL) and train.

    The file and the options together define the tenant's classifier: training again replaces both.
    Prints the examples per label and a 5-fold cross-validated accuracy on the tenant's intents.
    """
    from agents.classifiers import (
        ClassifierOptions,
        Examples,
        builtin_classifier,
        cross_validate,
        parse_labelled_file,
        replace_tenant_examples,
        tenant_classifier,
    )
    from agents.tenant_settings import save_classifier_options
    from conversations.services import open_services

    options = ClassifierOptions(
        builtin_intents=not without_builtin_intents,
        builtin_sentiments=not without_builtin_sentiments,
        out_of_scope_below=out_of_scope_below,
    )
    rows = parse_labelled_file(file, options)
    async with open_services(get_settings()) as services:
        async with services.database.sessionmaker.begin() as session:
            owner = await get_tenant(session, tenant_slug)
            counts = await replace_tenant_examples(session, owner.id, rows)
            await save_classifier_options(session, owner.id, options)
        with err.status("training…"):
            async with services.database.sessionmaker() as session:
                await tenant_classifier(session, owner.id, services.embedder, options)
            texts = [r.text for r in rows]
            examples = Examples(texts, [r.intent for r in rows], await services.embedder.aencode(texts))
            base = await asyncio.to_thread(builtin_classifier, services.embedder)
            scores = await asyncio.to_thread(cross_validate, base, examples, 5, options)
    intents, sentiments = dict(sorted(counts.intents.items())), dict(sorted(counts.sentiments.items()))
    per_intent = scores.per_label if scores else {}
    if as_json:
        report = {
            "tenant": owner.slug,
            "examples": len(rows),
            "intents": intents,
            "sentiments": sentiments,
            "cv_folds": scores.folds if scores else 0,
            "cv_accuracy": scores.accuracy if scores else None,
            "cv_accuracy_per_intent": per_intent,
        }
        click.echo(json.dumps(report, ensure_ascii=False))
        return
    table = Table(
        "intent", "examples", "cross-validated accuracy", title=f"{owner.slug}: {len(rows)} examples"
    )
    for label, count in intents.items():
        accuracy = per_intent.get(label)
        table.add_row(label, str(count), f"{accuracy:.0%}" if accuracy is not None else "-")
    console = Console()
    console.print(table)
    if sentiments:
        console.print("sentiment examples: " + ", ".join(f"{k} {n}" for k, n in sentiments.items()))
    if scores:
        console.print(f"{scores.folds}-fold cross-validated intent accuracy: {scores.accuracy:.1%}")
