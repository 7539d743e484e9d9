"""The HTML report: one self-contained file (inline CSS and SVG, no script, nothing fetched)."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from evals import charts
from evals.results import Report, format_metric
from evals.scoring import METRICS

MAX_FAILING_SHOWN = 200
"""Failing cases written out in full; a huge imported suite lists the rest by id."""

_environment = Environment(
    loader=PackageLoader("evals", "templates"), autoescape=select_autoescape(["html", "j2"]), trim_blocks=True
)


def _latencies(report: Report) -> list[float]:
    turns = [t.latency_ms for c in report.cases for t in c.turns]
    if turns:
        return turns
    return [c.retrieval.latency_ms for c in report.cases if c.retrieval] + [
        c.classification.latency_ms for c in report.cases if c.classification
    ]


def render_html(report: Report) -> str:
    failing = report.failed_cases
    context: dict[str, Any] = {
        "report": report,
        "descriptions": METRICS,
        "fmt": format_metric,
        "metric_bars": charts.metric_bars(report.metrics),
        "case_strip": charts.case_strip(report.cases),
        "histogram": charts.histogram(_latencies(report)),
        "confusions": {task: charts.confusion_matrix(task, m) for task, m in report.confusion.items()},
        "failing": failing[:MAX_FAILING_SHOWN],
        "failing_not_shown": [c.id for c in failing[MAX_FAILING_SHOWN:]],
        "passed": sum(1 for c in report.cases if c.passed),
        "settings_json": json.dumps(report.settings, indent=2, ensure_ascii=False, default=str),
    }
    return _environment.get_template("report.html.j2").render(**context)


def write_html(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")


def report_style_hash() -> str:
    """The CSP source (``'sha256-…'``) of the report's one inline stylesheet, so that a page whose policy
    forbids inline styles can still show the report in a frame. The block holds no template tags, so the
    rendered text is the template's text."""
    source = _environment.loader.get_source(_environment, "report.html.j2")[0] if _environment.loader else ""
    style = source.split("<style>", 1)[1].split("</style>", 1)[0]
    return "'sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode() + "'"
