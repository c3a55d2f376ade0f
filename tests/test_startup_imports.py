"""fieldkit starts fast because each command imports only what it needs: checked here by what a
fresh process has imported (sys.modules) after a command, not by timing.

The modules a bare interpreter imports by itself (site hooks may bring zipfile, say) do not count.
benchmarks/bench_startup.py measures the times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from fieldkit.cli import COMMANDS
from fieldkit.services.demo import build_demo_study

REPO_ROOT = Path(__file__).resolve().parents[1]

# Libraries no light command needs: audio, speech recognition, the app, document formats,
# encryption (a plain study needs none), schedule files, the ONNX voice detector.
HEAVY = frozenset(
    {
        "numpy",
        "soundfile",
        "sounddevice",
        "faster_whisper",
        "ctranslate2",
        "onnxruntime",
        "tokenizers",
        "huggingface_hub",
        "av",
        "docx",
        "lxml",
        "xml",
        "textual",
        "rich",
        "sqlcipher3",
        "cryptography",
        "yaml",
    }
)
# --help needs no study: no database, no services, no other command's module.
HELP_ONLY = frozenset({"sqlite3", "sqlite_utils", "platformdirs", "tomllib", "tomli_w"})
# Commands that record or play audio load the audio libraries (through the recording service).
AUDIO_COMMANDS = frozenset({"record", "devices", "recover", "import-audio"})

RUN_COMMAND = """
import json, sys
out = sys.argv.pop(1)
from fieldkit.cli import main
try:
    main(sys.argv[1:], prog_name="fieldkit")
except SystemExit as exit:
    code = exit.code
with open(out, "w") as f:
    json.dump({"code": code, "modules": sorted(sys.modules)}, f)
"""


def run_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def modules_of_bare_interpreter() -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", "import sys, click; print('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        env=run_env(),
        check=True,
    )
    return set(done.stdout.split())


def modules_after(tmp_path: Path, *args: str) -> tuple[set[str], str]:
    """What `fieldkit ARGS…` imported beyond a bare interpreter, and what it printed."""
    out = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_COMMAND, str(out), *args],
        capture_output=True,
        text=True,
        env=run_env(),
        check=True,
    )
    report = json.loads(out.read_text())
    assert report["code"] in (0, None), done.stderr
    return set(report["modules"]) - modules_of_bare_interpreter(), done.stdout


def libraries(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_help_imports_no_command(tmp_path: Path) -> None:
    modules, output = modules_after(tmp_path, "--help")
    assert "participant" in output
    assert libraries(modules) & (HEAVY | HELP_ONLY) == set()
    fieldkit_modules = {m for m in modules if m.startswith("fieldkit.")}
    assert fieldkit_modules <= {
        "fieldkit.cli",
        "fieldkit.cli.common",
        "fieldkit.cli.lazy",
        "fieldkit.errors",
        "fieldkit.paths",
        "fieldkit.private",
    }


def test_listing_participants_imports_no_heavy_library(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    build_demo_study(root, transcripts=True).close()
    modules, output = modules_after(tmp_path, "--study", str(root), "participant", "list")
    assert "INTSTA004-CLIN" in output  # it did open the study and list it
    assert libraries(modules) & HEAVY == set()
    assert not any(
        m.startswith(("fieldkit.tui", "fieldkit.audio", "fieldkit.transcribe")) for m in modules
    )
    assert not any(m.startswith(("fieldkit.export", "fieldkit.services.approval")) for m in modules)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_commands_help_imports_only_what_it_needs(tmp_path: Path, command: str) -> None:
    modules, output = modules_after(tmp_path, command, "--help")
    assert f"fieldkit {command}" in output
    allowed = {"yaml"} if command in ("schedule", "export") else set()  # they read schedules
    if command in AUDIO_COMMANDS:
        allowed |= {"numpy", "soundfile", "sounddevice"}
    assert libraries(modules) & HEAVY <= allowed
    others = {f"fieldkit.cli.{m}" for m in ("record", "transcripts", "approval", "deid", "export")}
    assert modules & (others - {COMMANDS[command].module}) == set()
