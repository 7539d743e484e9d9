"""Charts as inline SVG, drawn here, so the HTML report is one file that works offline."""

from __future__ import annotations

import math
from collections.abc import Sequence

from markupsafe import Markup, escape

from evals.results import CaseResult
from evals.scoring import LOWER_IS_BETTER

PASS = "#2e7d32"  # noqa: S105 — a colour, not a password
FAIL = "#c62828"
ERROR = "#6a1b9a"
INK = "#263238"
MAX_LABELS = 30


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 11, extra: str = "") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{INK}" {extra}>'
        f"{escape(text)}</text>"
    )


def metric_bars(metrics: dict[str, float]) -> Markup:
    """Horizontal bars for the metrics that are shares (0 … 1)."""
    shares = [
        (name, value)
        for name, value in metrics.items()
        if 0.0 <= value <= 1.0 and name not in LOWER_IS_BETTER and name != "cases"
    ]
    row, label_width, width = 20, 170, 300
    height = row * len(shares) + 10
    parts = [
        f'<svg class="chart metric-bars" role="img" aria-label="metrics" width="{label_width + width + 60}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, (name, value) in enumerate(shares):
        y = 5 + index * row
        parts.append(_text(label_width - 6, y + 13, name, anchor="end"))
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{width}" height="{row - 6}" fill="#eceff1"/>'
        )
        colour = PASS if value >= 0.8 else ("#f9a825" if value >= 0.5 else FAIL)
        parts.append(
            f'<rect x="{label_width}" y="{y + 3}" width="{width * value:.1f}" height="{row - 6}" fill="{colour}">'
            f"<title>{escape(name)}: {value:.3f}</title></rect>"
        )
        parts.append(_text(label_width + width + 6, y + 13, f"{value:.3f}"))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()


def _labels(matrix: dict[str, dict[str, int]]) -> tuple[list[str], bool]:
    """The labels to draw: all of them, or the MAX_LABELS with the most mistakes, then the most cases."""
    labels = list(matrix)
    if len(labels) <= MAX_LABELS:
        return labels, False

    def weight(label: str) -> tuple[int, int]:
        wrong = sum(n for said, n in matrix[label].items() if said != label)
        wrong += sum(matrix[gold].get(label, 0) for gold in labels if gold != label)
        return wrong, sum(matrix[label].values())

    return sorted(sorted(labels, key=weight, reverse=True)[:MAX_LABELS]), True


def confusion_matrix(name: str, matrix: dict[str, dict[str, int]]) -> Markup:
    """Rows: expected label; columns: predicted. The diagonal is green, mistakes red, darker = more."""
    labels, truncated = _labels(matrix)
    cell = 26 if len(labels) <= 12 else 16
    longest = max((len(label) for label in labels), default=4)
    margin = 10 + 6 * longest
    size = margin + cell * len(labels)
    width = max(size + 6 * longest, 280)
    parts = [
        f'<svg class="chart confusion" data-task="{escape(name)}" role="img" '
        f'aria-label="confusion matrix: {escape(name)}" width="{width}" height="{size + 40}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    peak = max((n for row in matrix.values() for n in row.values()), default=1) or 1
    for i, gold in enumerate(labels):
        y = margin + i * cell
        parts.append(_text(margin - 4, y + cell * 0.65, gold, anchor="end", size=10))
        x_label = margin + i * cell + cell * 0.65
        parts.append(
            _text(
                x_label,
                margin - 4,
                gold,
                size=10,
                extra=f'transform="rotate(-60 {x_label:.1f} {margin - 4})"',
            )
        )
        for j, said in enumerate(labels):
            count = matrix[gold].get(said, 0)
            x = margin + j * cell
            shade = 0.08 + 0.92 * math.sqrt(count / peak) if count else 0.0
            colour = PASS if gold == said else FAIL
            fill = f'fill="{colour}" fill-opacity="{shade:.2f}"' if count else 'fill="#fafafa"'
            parts.append(
                f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" {fill}>'
                f"<title>expected {escape(gold)}, predicted {escape(said)}: {count}</title></rect>"
            )
            if count and cell >= 26:
                parts.append(_text(x + cell / 2, y + cell * 0.65, str(count), anchor="middle", size=10))
    footer = f"expected (rows) × predicted (columns){'; the most confused labels only' if truncated else ''}"
    parts.append(_text(4, size + 30, footer, size=10))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()


def histogram(values: Sequence[float], unit: str = "ms", bins: int = 20) -> Markup:
    """How many turns took how long."""
    width, height, left, bottom = 480, 180, 40, 30
    parts = [
        f'<svg class="chart latency-histogram" role="img" aria-label="latency histogram" width="{width + left + 10}" '
        f'height="{height + bottom + 10}" xmlns="http://www.w3.org/2000/svg">'
    ]
    if values:
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        counts = [0] * bins
        for value in values:
            counts[min(int((value - low) / span * bins), bins - 1)] += 1
        peak = max(counts)
        bar = width / bins
        for index, count in enumerate(counts):
            h = height * count / peak
            start = low + span * index / bins
            parts.append(
                f'<rect x="{left + index * bar:.1f}" y="{10 + height - h:.1f}" width="{bar - 2:.1f}" '
                f'height="{h:.1f}" fill="#1565c0"><title>{start:.0f}–{start + span / bins:.0f} {unit}: '
                f"{count}</title></rect>"
            )
        parts.append(_text(left, height + 25, f"{low:.0f} {unit}"))
        parts.append(_text(left + width, height + 25, f"{high:.0f} {unit}", anchor="end"))
        parts.append(_text(left - 4, 20, str(peak), anchor="end"))
    parts.append(
        f'<line x1="{left}" y1="{height + 10}" x2="{left + width}" y2="{height + 10}" stroke="{INK}"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()


def case_strip(cases: Sequence[CaseResult]) -> Markup:
    """One square per case in suite order: green passed, red failed, purple could not run; failures link."""
    side, per_row = 14, 50
    rows = max(1, math.ceil(len(cases) / per_row))
    parts = [
        f'<svg class="chart case-strip" role="img" aria-label="cases passed and failed" '
        f'width="{per_row * side + 2}" height="{rows * side + 2}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for index, case in enumerate(cases):
        x, y = 1 + (index % per_row) * side, 1 + (index // per_row) * side
        colour = PASS if case.passed else (ERROR if case.error else FAIL)
        status = "passed" if case.passed else ("error" if case.error else "failed")
        square = (
            f'<rect x="{x}" y="{y}" width="{side - 2}" height="{side - 2}" fill="{colour}" data-status="{status}">'
            f"<title>{escape(case.id)}: {status}</title></rect>"
        )
        parts.append(square if case.passed else f'<a href="#case-{escape(case.id)}">{square}</a>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every text in it went through escape()
