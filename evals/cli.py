"""``atende eval``: run suites against a tenant, compare runs, import published datasets.

Exit codes: 0 every gate held, 1 a gate failed (or ``compare`` found a regression), 2 a usage
error (bad suite, gate, tenant or document: nothing ran), 130 interrupted (partial reports written).
Every run that ran cases is stored for the tenant (interrupted ones marked incomplete): see ``/evals``.
"""

from __future__ import annotations

import asyncio
import datetime
import sys
import uuid
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import SQLAlchemyError

from core.errors import AtendeError
from evals.gates import Gate, GateSyntaxError, parse_gate
from evals.report import build_report, now, write_json
from evals.results import CaseResult, Report, format_metric
from evals.suite import LoadedCase, SuiteError, load_suites, resolve_suite

if TYPE_CHECKING:
    from conversations.services import Services

T = TypeVar("T")
USAGE_ERROR = 2
GATE_FAILED = 1
INTERRUPTED = 130
err = Console(stderr=True, soft_wrap=True)
"""Messages are not wrapped, so CI logs and scripts see each on one line."""


def _usage_error(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}")
    sys.exit(USAGE_ERROR)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coroutine)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted before any case ran; nothing written[/yellow]")
        sys.exit(INTERRUPTED)


@click.group("eval")
def eval_group() -> None:
    """Evals: measure the real pipeline (retrieval, classification, whole conversations) before a change ships."""


@eval_group.command("run")
@click.argument("suites", metavar="SUITE...", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--tenant", "tenant_slug", required=True, help="The tenant whose knowledge base and settings to use."
)
@click.option(
    "--json", "json_out", type=click.Path(path_type=Path, dir_okay=False), help="Write the JSON report."
)
@click.option(
    "--html", "html_out", type=click.Path(path_type=Path, dir_okay=False), help="Write the HTML report."
)
@click.option(
    "--junit", "junit_out", type=click.Path(path_type=Path, dir_okay=False), help="Write JUnit XML."
)
@click.option(
    "--fail-under",
    "gate_specs",
    multiple=True,
    metavar="METRIC=VALUE",
    help="A gate (repeatable): exit 1 if METRIC is below VALUE (above, for latency, tokens and cost).",
)
@click.option(
    "--concurrency", default=2, show_default=True, type=click.IntRange(1, 16), help="Cases at a time."
)
@click.option(
    "--judge/--no-judge",
    default=True,
    show_default=True,
    help="With an LLM configured, let it judge rubrics and groundedness (its cost is reported apart).",
)
def eval_run(
    suites: tuple[Path, ...],
    tenant_slug: str,
    json_out: Path | None,
    html_out: Path | None,
    junit_out: Path | None,
    gate_specs: tuple[str, ...],
    concurrency: int,
    judge: bool,
) -> None:
    """Run SUITE files (JSONL or YAML; `demo` names the suite shipped for the demo tenant) through the
    tenant's real pipeline, in isolation: no message is stored, no ticket opened, nothing sent."""
    try:
        gates = [parse_gate(spec) for spec in gate_specs]
    except GateSyntaxError as exc:
        _usage_error(f"--fail-under {exc}")
    suites = tuple(resolve_suite(suite) for suite in suites)
    try:
        cases = load_suites(list(suites))
    except SuiteError as exc:
        _usage_error(exc.detail)
    try:
        report = _run(_run_suites(list(suites), cases, tenant_slug, gates, concurrency, judge))
    except AtendeError as exc:  # unknown tenant or document, a knowledge base made by another model
        _usage_error(exc.detail)
    for path, write in _writers(json_out, html_out, junit_out):
        write(report, path)
        err.print(f"wrote {path}")
    print_summary(report, Console(soft_wrap=True))
    if report.incomplete:
        err.print(f"[yellow]interrupted: {len(report.cases)} of {report.total_cases} cases ran[/yellow]")
        sys.exit(INTERRUPTED)
    if any(not gate.passed for gate in report.gates):
        sys.exit(GATE_FAILED)


def _writers(json_out: Path | None, html_out: Path | None, junit_out: Path | None) -> list[tuple[Path, Any]]:
    from evals.html import write_html
    from evals.junit import write_junit

    pairs = ((json_out, write_json), (html_out, write_html), (junit_out, write_junit))
    return [(path, write) for path, write in pairs if path is not None]


async def _run_suites(
    suites: list[Path],
    cases: list[LoadedCase],
    tenant_slug: str,
    gates: list[Gate],
    concurrency: int,
    judge: bool,
) -> Report:
    from conversations.services import open_services
    from core.accounts import get_tenant
    from core.settings import get_settings
    from evals.runner import run_cases

    run_id = f"{datetime.datetime.now(datetime.UTC):%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    started_at = now()
    async with open_services(get_settings()) as services:
        async with services.database.sessionmaker() as session:
            tenant = await get_tenant(session, tenant_slug)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]{task.fields[passed]} passed[/green] [red]{task.fields[failed]} failed[/red]"),
            TimeElapsedColumn(),
            console=err,
        ) as bar:
            task = bar.add_task("evaluating", total=len(cases), passed=0, failed=0)
            tally = {"passed": 0, "failed": 0}

            def advance(result: CaseResult) -> None:
                tally["passed" if result.passed else "failed"] += 1
                bar.update(task, advance=1, passed=tally["passed"], failed=tally["failed"])

            def started() -> None:
                bar.console.print(f"eval run {run_id}: running {len(cases)} case(s) on tenant {tenant.slug}")

            outcome = await run_cases(
                services,
                tenant,
                cases,
                run_id=run_id,
                concurrency=concurrency,
                on_result=advance,
                on_start=started,
                use_judge=judge,
            )
        report = build_report(
            run_id=run_id,
            tenant=tenant.slug,
            suites=suites,
            started_at=started_at,
            total_cases=len(cases),
            results=outcome.results,
            incomplete=outcome.incomplete,
            settings=outcome.settings,
            gates=gates,
        )
        await _store(services, tenant.id, report)
    return report


async def _store(services: Services, tenant_id: uuid.UUID, report: Report) -> None:
    """Keep the run (interrupted ones too) for the web app's list; the reports are written either way."""
    from evals.history import store_run

    try:
        async with services.database.sessionmaker.begin() as session:
            store_run(session, tenant_id, report)
    except SQLAlchemyError as exc:
        err.print(f"[yellow]warning:[/yellow] the run was not stored ({type(exc).__name__}: {exc})")
    else:
        err.print(f"stored eval run {report.run_id}: see /evals in the web app")


def print_summary(report: Report, console: Console) -> None:
    table = Table(
        title=f"eval {report.run_id} on {report.tenant}" + (" (incomplete)" if report.incomplete else "")
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    for metric, value in report.metrics.items():
        table.add_row(metric, format_metric(metric, value))
    console.print(table)
    for gate in report.gates:
        sign = ">=" if gate.direction == "min" else "<="
        measured = format_metric(gate.metric, gate.value)
        status = "[green]ok[/green]" if gate.passed else "[red]FAILED[/red]"
        console.print(f"gate {gate.metric} {sign} {gate.threshold}: {measured} {status}")
    failed = report.failed_cases
    for case in failed[:20]:
        reasons = [c.name for t in case.turns for c in t.checks if c.passed is False]
        reasons += [c.name for c in case.checks if c.passed is False]
        why = case.error or ", ".join(dict.fromkeys(reasons))
        console.print(f"[red]✗[/red] {case.id} ({case.file}:{case.line}): {why}")
    if len(failed) > 20:
        console.print(f"… and {len(failed) - 20} more failing case(s): see the reports")


def _read_report(path: Path) -> Report:
    from evals.results import decode_report

    try:
        return decode_report(path.read_bytes())
    except FileNotFoundError:
        _usage_error(f"{path}: no such report")
    except ValueError as exc:  # msgspec's DecodeError and ValidationError are ValueErrors
        _usage_error(f"{path}: not a report of `atende eval run --json` ({exc})")


@eval_group.command("compare")
@click.argument("before", type=click.Path(path_type=Path, dir_okay=False))
@click.argument("after", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--tolerance",
    default=0.01,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="A share metric (pass rate, hit@k, F1…) that drops by more than this is a regression.",
)
@click.option(
    "--latency-tolerance",
    default=None,
    type=click.FloatRange(0),
    help="Latency, tokens or cost up by more than this share (0.25 = 25 %) is a regression too.",
)
def eval_compare(before: Path, after: Path, tolerance: float, latency_tolerance: float | None) -> None:
    """What changed from the BEFORE run to the AFTER run (JSON reports), metric by metric and case by
    case; exit 1 on a regression beyond the tolerance."""
    from evals.compare import compare_reports

    comparison = compare_reports(
        _read_report(before), _read_report(after), tolerance=tolerance, latency_tolerance=latency_tolerance
    )
    console = Console(soft_wrap=True)
    for note in comparison.notes:
        console.print(f"[yellow]note:[/yellow] {note}")
    table = Table("metric", "before", "after", "change", "", title=f"{before.name} → {after.name}")
    for change in comparison.metrics:
        delta = change.delta
        shown = (
            ""
            if delta is None
            else (f"{delta:+.0f} ms" if change.metric.endswith("_ms") else f"{delta:+.3f}")
        )
        table.add_row(
            change.metric,
            "-" if change.before is None else format_metric(change.metric, change.before),
            "-" if change.after is None else format_metric(change.metric, change.after),
            shown,
            "[red]regression[/red]" if change.regression else "",
        )
    console.print(table)
    marks = {"newly failing": "[red]✗ newly failing[/red]", "fixed": "[green]✓ fixed[/green]"}
    for case in comparison.cases:
        console.print(
            f"{marks.get(case.change, case.change)} {case.id}" + (f": {case.detail}" if case.detail else "")
        )
    for name, (old, new) in comparison.settings.items():
        console.print(f"setting {name}: {old} → {new}")
    regressions = comparison.regressions
    if regressions:
        names = ", ".join(r.metric for r in regressions)
        console.print(f"[red]regression beyond the tolerance:[/red] {names}")
        sys.exit(GATE_FAILED)
    console.print("no regression beyond the tolerance")


@eval_group.command("import")
@click.argument("dataset", type=click.Choice(["banking77", "clinc150", "stackfaq", "sentiment"]))
@click.argument("path", type=click.Path(path_type=Path, exists=True))
@click.option(
    "--out", required=True, type=click.Path(path_type=Path, dir_okay=False), help="The suite to write."
)
@click.option(
    "--no-split",
    is_flag=True,
    help="Put every row in the suite (no training file): benchmark the built-in classifier on all of it.",
)
def eval_import(dataset: str, path: Path, out: Path, no_split: bool) -> None:
    """Turn a published DATASET (its folder or file at PATH) into a suite, plus the training file or the
    documents it needs; prints the commands that run it."""
    from evals.importers import IMPORTERS, DatasetError

    try:
        options = {} if dataset == "stackfaq" else {"split": not no_split}
        imported = IMPORTERS[dataset](path, out, **options)
    except DatasetError as exc:
        _usage_error(exc.detail)
    console = Console(soft_wrap=True)
    console.print(f"wrote {imported.suite} ({imported.cases} cases)")
    if imported.training:
        console.print(
            f"wrote {imported.training} ({imported.training_rows} labelled examples to train a tenant)"
        )
    if imported.documents:
        console.print(f"wrote {imported.documents}/ (the documents to ingest)")
    console.print("next:")
    for step in imported.next_steps:
        console.print(f"  {step}")
