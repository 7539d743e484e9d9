"""JUnit XML, which CI systems show as tests: one test case per eval case, one test suite per kind.

The gates are test cases too (suite ``gates``), so a failed gate shows up next to the cases.
"""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

from evals.results import CaseResult, Report

KINDS = ("retrieval", "classification", "conversation")


def _seconds(case: CaseResult) -> float:
    turns = sum(t.latency_ms for t in case.turns)
    other = (case.retrieval.latency_ms if case.retrieval else 0.0) + (
        case.classification.latency_ms if case.classification and not case.turns else 0.0
    )
    return (turns + other) / 1000


def _failure_text(case: CaseResult) -> str:
    lines = [f"{case.file}:{case.line}"]
    for index, turn in enumerate(case.turns, start=1):
        lines.append(f"turn {index}: {turn.user}")
        lines.append(f"  bot: {turn.reply or '(handed off)'}  [{turn.decision.get('rule', '')}]")
        lines += [
            f"  {c.name}: expected {c.expected!r}, got {c.actual!r}" for c in turn.checks if c.passed is False
        ]
    lines += [
        f"{c.name}: expected {c.expected!r}, got {c.actual!r}" for c in case.checks if c.passed is False
    ]
    return "\n".join(lines)


def _message(case: CaseResult) -> str:
    failed = [c.name for t in case.turns for c in t.checks if c.passed is False]
    failed += [c.name for c in case.checks if c.passed is False]
    return "failed: " + ", ".join(dict.fromkeys(failed))


def junit_xml(report: Report) -> bytes:
    root = ET.Element("testsuites", name=f"atende eval {report.run_id}")
    for kind in KINDS:
        cases = [c for c in report.cases if c.kind == kind]
        if not cases:
            continue
        suite = ET.SubElement(
            root,
            "testsuite",
            name=kind,
            tests=str(len(cases)),
            failures=str(sum(1 for c in cases if not c.passed and c.error is None)),
            errors=str(sum(1 for c in cases if c.error is not None)),
            time=f"{sum(_seconds(c) for c in cases):.3f}",
        )
        properties = ET.SubElement(suite, "properties")
        for name, value in report.by_kind.get(kind, {}).items():
            ET.SubElement(properties, "property", name=name, value=str(value))
        for case in cases:
            element = ET.SubElement(
                suite,
                "testcase",
                name=case.id,
                classname=f"{kind}.{Path(case.file).stem}",
                time=f"{_seconds(case):.3f}",
            )
            if case.error is not None:
                ET.SubElement(
                    element, "error", message=case.error
                ).text = f"{case.file}:{case.line}\n{case.error}"
            elif not case.passed:
                ET.SubElement(element, "failure", message=_message(case)).text = _failure_text(case)
    if report.gates:
        gates = ET.SubElement(
            root,
            "testsuite",
            name="gates",
            tests=str(len(report.gates)),
            failures=str(sum(1 for g in report.gates if not g.passed)),
            errors="0",
        )
        for gate in report.gates:
            sign = ">=" if gate.direction == "min" else "<="
            element = ET.SubElement(
                gates, "testcase", name=f"{gate.metric} {sign} {gate.threshold}", classname="gates"
            )
            if not gate.passed:
                measured = "not measured" if gate.value is None else f"{gate.value}"
                ET.SubElement(element, "failure", message=f"{gate.metric} = {measured}")
    if report.incomplete:
        root.set("incomplete", "true")
    ET.indent(root)
    written: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return written + b"\n"


def write_junit(report: Report, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(junit_xml(report))
