"""`fieldkit export --timestamps after|none`: where the time goes in the Word and REFI-QDA text,
and one-line errors for a value it does not know or a format it does not apply to."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.errors import FieldkitError
from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow
from tests.conftest import CliRun

from .layout import docx_layout, docx_violations, study_labels

Approved = tuple[Study, InterviewRow]


def run(cli: CliRun, study: Study, *args: object) -> tuple[int, str, str]:
    result = cli(*map(str, args), "--study", str(study.root))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("option", "first_turn"),
    [
        ((), "Interviewer: [00:00:00] Thanks for coming in."),
        (("--timestamps", "after"), "Interviewer: [00:00:00] Thanks for coming in."),
        (("--timestamps", "none"), "Interviewer: Thanks for coming in."),
    ],
)
def test_the_option_places_the_time(
    cli: CliRun,
    deidentified: Approved,
    tmp_path: Path,
    option: tuple[str, ...],
    first_turn: str,
) -> None:
    study, interview = deidentified
    out = tmp_path / "out"
    code, _, err = run(cli, study, "export", "--format", "nvivo-docx", out, *option)
    assert code == 0, err
    [path] = out.iterdir()
    assert docx_layout(path)[1][1].startswith(first_turn)
    placement = option[1] if option else "after"
    assert docx_violations(path, study_labels([interview.participant_id]), placement) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--format", "nvivo-docx", "--timestamps", "before"), "unknown --timestamps 'before'"),
        (("--format", "csv", "--timestamps", "none"), "--timestamps only applies to"),
        (("--format", "nvivo-txt", "--timestamps", "after"), "--timestamps only applies to"),
    ],
)
def test_option_mistakes_are_one_line(
    cli: CliRun, deidentified: Approved, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    study, _ = deidentified
    code, _, err = run(cli, study, "export", *args, tmp_path / "out")
    assert code == 1 and message in err and len(err.splitlines()) == 1, err
    assert not (tmp_path / "out").exists()


def test_the_service_checks_the_placement_too(deidentified: Approved, tmp_path: Path) -> None:
    study, _ = deidentified
    with pytest.raises(FieldkitError, match="unknown --timestamps"):
        export(study, "nvivo-docx", tmp_path / "out", timestamps="start")
    assert not (tmp_path / "out").exists()
