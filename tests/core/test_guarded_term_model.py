"""GuardedTerm lives in core/models, so guard and schedule no longer import each other (issue 9,
item 23): schedule uses the guard's matcher; the guard needs nothing from the schedule."""

from __future__ import annotations

import ast
from pathlib import Path

import fieldkit.core
from fieldkit.core import models, schedule

CORE = Path(fieldkit.core.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at run time or only for type checking."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_guarded_term_is_a_plain_model() -> None:
    term = models.GuardedTerm("recovery", ("recover",), "recovery-meaning", "What is it to you?")
    assert term.line == 0
    assert schedule.GuardedTerm is models.GuardedTerm  # older imports keep working


def test_the_guard_does_not_import_the_schedule() -> None:
    assert "fieldkit.core.schedule" not in imported_modules(CORE / "guard.py")
