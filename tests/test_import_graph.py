"""The packages import downwards only: flows → services → notifications → states/models →
config → errors and vntext (commands, the demos and the CLI sit on top). Function-local
imports count.

``KNOWN_UPWARD`` lists the upward imports that still exist, each with where it is; the test
fails on any new one, and on an entry that is gone (delete it then), so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import planflow

LAYERS = {
    "errors": 0,
    "vntext": 0,
    "samples": 1,
    "config": 1,
    "models": 2,
    "states": 3,
    "migrations": 3,
    "notifications": 4,
    "services": 5,
    "documents": 6,
    "flows": 7,
    "portal": 7,
    "demo": 8,
    "demo_two_tiers": 9,
    "commands": 11,
    "cli": 12,
    "__main__": 13,
}

KNOWN_UPWARD = {
    # the vocabularies (Level, UnitKind) the shipped hierarchy data is written in
    ("config", "models"): {"config/hierarchy_data.py", "config/successor_data.py"},
    # reminders count working days with the calendar that lives beside derive_deadline
    ("notifications", "services"): {"notifications/reminders.py"},
}


def _edges() -> dict[tuple[str, str], set[str]]:
    root = Path(planflow.__file__).parent
    found: dict[tuple[str, str], set[str]] = {}
    for path in root.rglob("*.py"):
        rel = path.relative_to(root)
        source = rel.parts[0].removesuffix(".py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                parts = name.split(".")
                if parts[0] == "planflow" and len(parts) > 1 and parts[1] != source:
                    found.setdefault((source, parts[1]), set()).add(rel.as_posix())
    return found


def test_every_package_has_a_layer() -> None:
    packages = {source for source, _ in _edges()} | {target for _, target in _edges()}
    assert packages <= set(LAYERS), f"give these a layer: {sorted(packages - set(LAYERS))}"


def test_imports_point_downwards_only() -> None:
    upward = {
        edge: files
        for edge, files in _edges().items()
        if LAYERS[edge[0]] <= LAYERS[edge[1]]
    }
    new = {edge: files - KNOWN_UPWARD.get(edge, set()) for edge, files in upward.items()}
    new = {edge: files for edge, files in new.items() if files}
    assert not new, f"upward or sideways imports: {new}"
    gone = {
        edge: files - upward.get(edge, set())
        for edge, files in KNOWN_UPWARD.items()
        if files - upward.get(edge, set())
    }
    assert not gone, f"fixed, delete them from KNOWN_UPWARD: {gone}"


def test_no_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for (source, target), files in _edges().items():
        if files - KNOWN_UPWARD.get((source, target), set()):
            graph.setdefault(source, set()).add(target)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph.get(start, ()):
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(p for p in graph if reaches(p, p, {p}))
    assert not cycles, f"packages in an import cycle: {cycles}"
