"""Check that Python 3.11's stock pip (23.2, what `python3 -m venv` gives) installs everything Atende
needs. It resolves some extras differently from today's pip: it dropped ``lxml[html_clean]``, so
trafilatura's HTML cleaning failed in venvs made with it. So: ask a fresh stock-pip venv for a
dry-run install of the project, walk Atende's requirements through what it would install (extras
included, their names normalized as today's pip does), and fail naming every distribution left out.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def stock_resolution() -> dict[str, list[str]]:
    """What a fresh stock-pip venv would install for the project: each distribution's requirements."""
    with tempfile.TemporaryDirectory() as scratch:
        venv = Path(scratch) / "venv"
        report = Path(scratch) / "report.json"
        pip = [str(venv / "bin" / "pip"), "install", "--quiet", "--dry-run", "--ignore-installed"]
        for command in (
            [sys.executable, "-m", "venv", str(venv)],
            [*pip, "--report", str(report), str(ROOT)],
        ):
            subprocess.run(command, check=True)  # noqa: S603 - fixed commands; the venv brings its stock pip
        installs = json.loads(report.read_text())["install"]
    return {
        canonicalize_name(item["metadata"]["name"]): item["metadata"].get("requires_dist", [])
        for item in installs
    }


def missing(resolved: dict[str, list[str]]) -> dict[str, str]:
    """Distributions that Atende's requirements (extras included, names normalized as today's pip does)
    call for but the stock resolution leaves out, with who asked for each."""
    left_out: dict[str, str] = {}
    queue: list[tuple[str, frozenset[str]]] = [("atende", frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while queue:
        name, extras = queue.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        for line in resolved[name]:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in extras] or [{"extra": ""}]
            if requirement.marker and not any(requirement.marker.evaluate(e) for e in environments):
                continue
            wanted = canonicalize_name(requirement.name)
            if wanted not in resolved:
                left_out.setdefault(wanted, name)
                continue
            queue.append((wanted, frozenset(canonicalize_name(extra) for extra in requirement.extras)))
    return left_out


def main() -> int:
    resolved = stock_resolution()
    left_out = missing(resolved)
    for name, wanted_by in sorted(left_out.items()):
        print(f"stock pip leaves out {name} (needed by {wanted_by}): declare it in pyproject.toml")
    if not left_out:
        print(f"stock pip installs all {len(resolved)} distributions Atende needs")
    return 1 if left_out else 0


if __name__ == "__main__":
    sys.exit(main())
