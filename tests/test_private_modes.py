"""Every file fieldkit creates is 0600 and every folder 0700, under the usual umask 022.

One full study, through the command line, on real components: init, a participant, consent, a
recording through the virtual microphone (espeak-ng speech), transcription by the worker process
with the real model, sign-off, the participant's copy sent inside and outside the study, the
returned copy, the decision, de-identification (a decisions file outside the study, then
--accept-all), exports inside and outside the study, the report. Then every folder of the study
must be 0700 and every file 0600, and so must what was written outside it.

The command line also sets an owner-only umask while it runs (a second line of defence); the
test turns that off, so what it checks is that each file is made private explicitly.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit import private
from tests.conftest import CliRun
from tests.speech import espeak_available, two_speaker_wav

pytestmark = pytest.mark.model

TURNS: list[tuple[str, str] | tuple[str, str, float]] = [
    ("interviewer", "Thank you for coming in today. Where do you work?"),
    ("participant", "I work with Diane at the community unit. It has been a good week."),
]
OUTSIDE_NOTE = "is outside the study folder"


@pytest.fixture
def umask_022(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A typical desktop umask, with the command line's own owner-only umask turned off."""
    monkeypatch.setattr(private, "owner_only_umask", contextlib.nullcontext)
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def modes(top: Path) -> dict[Path, int]:
    """The permission bits of `top` and of everything below it."""
    found = {top: stat.S_IMODE(top.lstat().st_mode)}
    for folder, folders, files in os.walk(top):
        for name in [*folders, *files]:
            path = Path(folder) / name
            found[path] = stat.S_IMODE(path.lstat().st_mode)
    return found


def not_private(top: Path) -> list[str]:
    wrong = []
    for path, mode in modes(top).items():
        expected = 0o700 if path.is_dir() else 0o600
        if mode != expected:
            wrong.append(f"{oct(mode)} {path.relative_to(top.parent)}")
    return wrong


def ok(result: object) -> str:
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    return result.stdout  # type: ignore[attr-defined, no-any-return]


def test_every_file_of_a_whole_study_is_owner_only(
    tmp_path: Path, cli: CliRun, umask_022: None
) -> None:
    if not espeak_available():
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    speech = tmp_path / "speech" / "interview.wav"
    assert two_speaker_wav(TURNS, speech)[-1].end < 10
    root = tmp_path / "study"
    outside = tmp_path / "outside"
    outside.mkdir()  # the user's own folder: its mode is theirs (0755 here)

    ok(cli("init", root, "--title", "Modes"))
    pid = ok(cli("participant", "add", "--site", "Site 1", "--role", "PEER", "--study", root))
    pid = pid.strip().splitlines()[-1]
    ok(cli("consent", pid, "--date", "2026-03-14", "--study", root))
    recorded = ok(cli("record", pid, "--input", speech, "--study", root))
    assert Path(recorded.strip().splitlines()[-1]).parent == root / "audio"
    ok(cli("transcribe", pid, "--study", root))
    ok(cli("approval", "reviewed", pid, "--study", root))

    inside_copy = root / "copy.docx"
    sent = cli("approval", "send", pid, "--out", inside_copy, "--study", root)
    ok(sent)
    assert OUTSIDE_NOTE not in sent.stderr
    outside_copy = outside / "copy.txt"
    sent = cli("approval", "send", pid, "--out", outside_copy, "--study", root)
    ok(sent)
    assert sent.stderr.count(OUTSIDE_NOTE) == 1 and str(outside_copy) in sent.stderr
    ok(cli("approval", "receive", pid, outside_copy, "--yes", "--study", root))
    ok(cli("approval", "decide", pid, "approved", "--study", root))

    ok(cli("identifiers", "add", "Diane", "--category", "person", "--study", root))
    decisions = outside / "decisions.json"
    saved = cli("deidentify", pid, "--save-decisions", decisions, "--study", root)
    ok(saved)
    assert saved.stderr.count(OUTSIDE_NOTE) == 1
    ok(cli("deidentify", pid, "--accept-all", "--study", root))

    inside_exports = root / "exports" / "analysis"
    for fmt in ("nvivo-docx", "nvivo-txt", "json"):
        exported = cli("export", "--format", fmt, inside_exports, "--study", root)
        ok(exported)
        assert OUTSIDE_NOTE not in exported.stderr
    outside_exports = outside / "for-nvivo" / "round-1"  # two folders made by fieldkit
    for fmt in ("qdpx", "csv"):
        exported = cli("export", "--format", fmt, outside_exports, "--study", root)
        ok(exported)
        assert exported.stderr.count(OUTSIDE_NOTE) == 1
    ok(cli("report", "--study", root))

    made = {p.relative_to(root).as_posix() for p in modes(root)}
    assert {"fieldkit.db", "study.toml", "logs/transcribe.log"} <= made
    assert any(name.startswith("audio/") for name in made)
    assert {"exports/analysis", "copy.docx"} <= made
    assert not_private(root) == []
    assert not_private(outside / "for-nvivo") == []
    for path in (outside_copy, decisions):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(outside.stat().st_mode) == 0o755  # the user's folder: left as it was
