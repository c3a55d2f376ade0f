"""fieldkit export on the command line: de-identified by default, identified only when confirmed
(and audited), one-line errors that write nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.services.deid import deidentify
from fieldkit.services.study import Study
from fieldkit.store.repo import AuditLog, InterviewRow
from tests.conftest import CliRun
from tests.export.factory import add_identifiers, approve, make_interview, sample_segments


def run(cli: CliRun, study: Study, *args: object, input: str | None = None) -> tuple[int, str, str]:
    result = cli(*map(str, args), "--study", str(study.root), input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ready(study: Study, tmp_path: Path) -> InterviewRow:
    interview = make_interview(study, sample_segments())
    add_identifiers(study)
    approve(study, interview, tmp_path / "copies")
    deidentify(study, interview.participant_id)
    return interview


def audit_actions(study: Study) -> list[str]:
    return [e["action"] for e in AuditLog(study.db).entries()]


def test_export_writes_and_lists_the_files(
    cli: CliRun, study: Study, ready: InterviewRow, tmp_path: Path
) -> None:
    out = tmp_path / "nvivo"
    code, stdout, _ = run(cli, study, "export", "--format", "nvivo-docx", out)
    assert code == 0
    name = f"{ready.participant_id}_commencement.docx"
    assert stdout.splitlines() == [
        f"wrote 1 file with 1 de-identified transcript to {out} — opens in NVivo (and "
        "any word processor)",
        f"  {name}",
    ]
    assert (out / name).is_file()
    assert audit_actions(study)[-1] == "export"


def test_named_participants_only(
    cli: CliRun, study: Study, ready: InterviewRow, tmp_path: Path
) -> None:
    code, _, _ = run(cli, study, "export", "--format", "json", tmp_path / "j", ready.participant_id)
    assert code == 0
    [data] = json.loads((tmp_path / "j" / "turns.json").read_text(encoding="utf-8"))
    assert data["participant"] == ready.participant_id


def test_identified_export_without_a_terminal_needs_yes(
    cli: CliRun, study: Study, ready: InterviewRow, tmp_path: Path
) -> None:
    code, _, err = run(cli, study, "export", "--format", "csv", tmp_path / "x", "--identified")
    assert code == 1 and "needs confirmation" in err and "--yes" in err
    assert not (tmp_path / "x").exists()
    code, _, _ = run(
        cli, study, "export", "--format", "csv", tmp_path / "y", "--identified", "--yes"
    )
    assert code == 0
    assert "Diane" in (tmp_path / "y" / "turns_IDENTIFIED.csv").read_text(encoding="utf-8")
    assert audit_actions(study)[-1] == "identified export"


def test_identified_export_asks_first(
    cli: CliRun,
    study: Study,
    ready: InterviewRow,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("fieldkit.cli.export._interactive", lambda: True)
    args = ("export", "--format", "qdpx", tmp_path / "q", "--identified")
    code, _, err = run(cli, study, *args, input="n\n")
    assert code == 1 and "identified export cancelled" in err
    assert "every name, place and number" in err
    assert not (tmp_path / "q").exists() and "identified export" not in audit_actions(study)
    code, stdout, _ = run(cli, study, *args, input="y\n")
    assert code == 0 and "IDENTIFIED transcript" in stdout
    assert (tmp_path / "q" / "fieldkit-project_IDENTIFIED.qdpx").is_file()
    assert audit_actions(study)[-1] == "identified export"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "csv", "{out}", "NOBODY"), "no participant 'NOBODY'"),
        (("--format", "csv", "{out}", "--yes"), "--yes only applies to --identified"),
        (("--format", "csv", "{file}"), "is a file, not a folder"),
        (("--format", "pdf", "{out}"), "unknown export format 'pdf'"),
    ],
)
def test_export_mistakes_are_one_line(
    cli: CliRun,
    study: Study,
    ready: InterviewRow,
    tmp_path: Path,
    args: tuple[str, ...],
    message: str,
) -> None:
    (tmp_path / "afile").write_text("x")
    filled = [a.format(out=tmp_path / "out", file=tmp_path / "afile") for a in args]
    code, _, err = run(cli, study, "export", *filled)
    assert code == 1 and message in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_nothing_to_export_says_what_to_do(cli: CliRun, study: Study, tmp_path: Path) -> None:
    code, _, err = run(cli, study, "export", "--format", "csv", tmp_path / "out")
    assert code == 1 and "nothing to export" in err and "fieldkit deidentify" in err
