"""The approval package imports its modules only when one of its names is used (see its
docstring); its list of names for the lookup stays in step with the names it declares."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import fieldkit.services.approval as approval

REPO_ROOT = Path(__file__).resolve().parents[2]


def declared_for_type_checkers() -> dict[str, str]:
    """Name → module, from the package's `if TYPE_CHECKING:` imports."""
    tree = ast.parse(Path(approval.__file__).read_text())
    block = next(node for node in tree.body if isinstance(node, ast.If))
    return {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


def test_every_public_name_has_one_home_and_resolves() -> None:
    declared = declared_for_type_checkers()
    assert declared == approval._HOMES
    assert sorted(approval.__all__) == sorted(declared)
    for name, home in declared.items():
        assert getattr(approval, name) is getattr(importlib.import_module(home), name)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        approval.no_such_thing  # type: ignore[attr-defined] # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("no AttributeError")


def test_reading_a_state_loads_neither_copies_nor_deletion() -> None:
    code = (
        "import sys\n"
        "from fieldkit.services.approval import states\n"
        "from fieldkit.services.transcription import transcript_state\n"
        "print(' '.join(m for m in sys.modules if m.startswith('fieldkit')))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    loaded = set(done.stdout.split())
    assert "fieldkit.services.approval.states" in loaded
    for module in ("copies", "decisions", "queue", "folders"):
        assert f"fieldkit.services.approval.{module}" not in loaded
    assert not any(m.startswith(("fieldkit.services.deletion", "fieldkit.export")) for m in loaded)
