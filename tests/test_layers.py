"""The floors of docs/architecture.md hold: no import runs up a floor, and no two modules import each other.

Every import counts, including those inside functions and under ``TYPE_CHECKING``: an import hidden
from the module's top still ties the two modules together.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FLOORS = [
    "core",
    "knowledge",
    "channels",
    "agents",
    "handoff",
    "integrations",
    "conversations",
    "evals",
    "web",
    "runtime",
]
"""Bottom to top: a package may import its own modules and those of the packages before it."""


def _modules() -> dict[str, Path]:
    modules = {}
    for package in FLOORS:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts:
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    """The project's modules that a file imports, wherever in the file the import stands."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _floor(module: str) -> int:
    return FLOORS.index(module.split(".")[0])


def test_no_import_runs_up_a_floor() -> None:
    upward = sorted(
        f"{importer} -> {imported}"
        for importer, imports in GRAPH.items()
        for imported in imports
        if _floor(imported) > _floor(importer)
    )
    assert not upward, "imports that run up a floor:\n" + "\n".join(upward)


def test_no_modules_import_each_other() -> None:
    """Strongly connected components of the module graph; a package's ``__init__`` re-exporting its
    own modules is not a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for imported in GRAPH[module]:
            if imported.startswith(module + "."):
                continue
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == module:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert not cycles, "modules that import each other:\n" + "\n".join(map(str, cycles))


@pytest.mark.parametrize("package", FLOORS)
def test_every_package_is_placed(package: str) -> None:
    assert any(name.split(".")[0] == package for name in MODULES), f"{package} has no modules"


def test_every_top_level_package_has_a_floor() -> None:
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")} - {"tests", "bench"}
    assert packages <= set(FLOORS)
