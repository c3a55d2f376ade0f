"""The review-to-export workflow on an encrypted study (the encrypted demo), every command given the
passphrase in the environment: review state, transcripts, audit, approval send/receive/decide,
de-identification, export, report and full-text search all work on SQLCipher, and the database
files never hold a word of the transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.services.demo import build_encrypted_demo_study
from tests.conftest import CliRun
from tests.encrypted import PASSPHRASE, SQLITE_HEADER, use_fast_kdf

# Words of the demo transcript (the participant names the suburb and their manager).
SPOKEN = ("Riverton", "peer support worker")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    use_fast_kdf(monkeypatch)
    study, _recovery_key = build_encrypted_demo_study(
        lambda: PASSPHRASE, tmp_path / "demo", transcripts=True
    )
    study.close()
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)
    return study.root


def run(cli: CliRun, root: Path, *args: object, input: str | None = None) -> str:
    result = cli(*args, "--study", root, input=input)
    assert result.exit_code == 0, (args, result.stderr)
    return str(result.stdout)


def database_files(root: Path) -> list[Path]:
    return sorted(root.glob("fieldkit.db*"))


def test_the_workflow_runs_on_an_encrypted_study(root: Path, cli: CliRun, tmp_path: Path) -> None:
    status = json.loads(run(cli, root, "approval", "status", "--json"))
    states = {row["participant"]: row["state"] for row in status}
    assert len(states) == 5
    reviewed = next(pid for pid, state in states.items() if state == "reviewed")
    needs_review = next(pid for pid, state in states.items() if state == "needs review")

    assert "Riverton" in run(cli, root, "transcript", "show", needs_review)
    assert run(cli, root, "transcript", "history", reviewed)
    assert json.loads(run(cli, root, "audit", reviewed, "--json"))["terms"]

    copy = tmp_path / "out" / "copy.txt"
    copy.parent.mkdir()
    run(cli, root, "approval", "send", reviewed, "--out", copy)
    run(cli, root, "approval", "receive", reviewed, copy, "--yes")
    run(cli, root, "approval", "decide", reviewed, "approved")

    run(cli, root, "deidentify", reviewed, "--accept-all")
    outdir = tmp_path / "export"
    run(cli, root, "export", "--format", "csv", outdir, reviewed)
    exported = "".join(p.read_text() for p in outdir.rglob("*.csv"))
    assert "peer support" in exported and "Riverton" not in exported  # de-identified

    report = json.loads(run(cli, root, "report", "--json"))
    assert report["participants"]["interviewed"] == 5
    # full-text search (FTS5 inside SQLCipher)
    assert "recovery: 5 of 5 transcripts" in run(cli, root, "terms", "recovery")

    # SQLCipher all along: no plain SQLite file, no spoken word in the database or its WAL.
    for path in database_files(root):
        content = path.read_bytes()
        assert SQLITE_HEADER not in content, path
        for word in SPOKEN:
            assert word.encode() not in content, (path, word)
