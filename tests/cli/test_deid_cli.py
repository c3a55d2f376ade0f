"""fieldkit identifiers and fieldkit deidentify on the command line, on a real study."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.services.study import Study
from fieldkit.store.deid_repo import DeidKeys
from fieldkit.store.repo import AuditLog, InterviewRow, Transcripts
from tests.conftest import CliRun
from tests.export.factory import add_identifiers, approve, make_interview, sample_segments


def run(cli: CliRun, study: Study, *args: str, input: str | None = None) -> tuple[int, str, str]:
    result = cli(*args, "--study", str(study.root), "--as", "tester", input=input)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def approved(study: Study, tmp_path: Path) -> InterviewRow:
    interview = make_interview(study, sample_segments())
    approve(study, interview, tmp_path / "copies")
    return interview


def revisions(study: Study, interview: InterviewRow) -> list[str]:
    return [r.kind for r in Transcripts(study.db).for_interview(interview.id)]


def test_identifiers_add_and_list(cli: CliRun, study: Study) -> None:
    assert run(cli, study, "identifiers", "add", "Diane", "--category", "person")[0] == 0
    code, out, _ = run(cli, study, "identifiers", "add", "Riverton", "--category", "Place")
    assert code == 0 and out.strip() == "added 'Riverton' (place)"
    run(cli, study, "identifiers", "add", "Riverton Health", "--category", "organization")
    code, out, _ = run(cli, study, "identifiers", "list")
    assert out.splitlines() == [
        "organisation Riverton Health",
        "person       Diane",
        "place        Riverton",
    ]
    code, out, _ = run(cli, study, "identifiers", "list", "--json")
    assert {"text": "Diane", "category": "person", "added_by": "tester"} in json.loads(out)
    # the audit log says an identifier was added, never which
    added = [e for e in AuditLog(study.db).entries() if e["action"] == "identifier added"]
    assert len(added) == 3 and all("Diane" not in e["detail"] for e in added)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("Diane", "--category", "animal"), "unknown identifier category 'animal'"),
        (("D", "--category", "person"), "identifier 'D' is too short"),
        (("diane", "--category", "person"), "'Diane' is already on the identifier list"),
    ],
)
def test_identifier_mistakes_are_one_line(
    cli: CliRun, study: Study, args: tuple[str, ...], message: str
) -> None:
    run(cli, study, "identifiers", "add", "Diane", "--category", "person")
    code, _, err = run(cli, study, "identifiers", "add", *args)
    assert code == 1 and err.startswith(f"error: {message}") and len(err.splitlines()) == 1
    assert len(run(cli, study, "identifiers", "list")[1].splitlines()) == 1


def test_identifiers_remove(cli: CliRun, study: Study) -> None:
    run(cli, study, "identifiers", "add", "Diane", "--category", "person")
    assert run(cli, study, "identifiers", "remove", "DIANE")[0] == 0
    code, _, err = run(cli, study, "identifiers", "remove", "Diane")
    assert code == 1 and "not on the identifier list" in err


def test_deidentify_accept_all(cli: CliRun, study: Study, approved: InterviewRow) -> None:
    add_identifiers(study)
    pid = approved.participant_id
    code, out, err = run(cli, study, "deidentify", pid, "--accept-all")
    assert code == 0, err
    assert out.strip() == (
        f"{pid} (commencement): revision 1 (de-identified) from revision 0: 12 replaced "
        "(1 address, 1 date of birth, 1 email, 1 organisation, 1 other, 4 person, 2 phone, "
        "1 place), 0 kept as said"
    )
    assert revisions(study, approved) == ["machine", "deidentified"]
    code, out, _ = run(cli, study, "transcript", "show", pid)
    assert "[PERSON 1]'s my manager" in out and "Diane" not in out
    placeholders = [k.placeholder for k in DeidKeys(study.db).for_interview(approved.id)]
    assert "[PERSON 1]" in placeholders and "[DATE OF BIRTH 1]" in placeholders


def test_deidentify_without_a_terminal_says_how(
    cli: CliRun, study: Study, approved: InterviewRow
) -> None:
    add_identifiers(study)
    code, _, err = run(cli, study, "deidentify", approved.participant_id)
    assert code == 1
    assert err.startswith(
        f"error: 12 suggestions for {approved.participant_id} (commencement) need a yes or no"
    )
    assert "--accept-all" in err and "nothing was stored" in err
    assert revisions(study, approved) == ["machine"]


def test_deidentify_asks_about_each_suggestion(
    cli: CliRun, study: Study, approved: InterviewRow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fieldkit.cli.deid._interactive", lambda: True)
    add_identifiers(study)
    # accept all but the first (Riverton Community Health) and the last (DIANE)
    answers = "n\n" + "y\n" * 10 + "n\n"
    code, out, err = run(cli, study, "deidentify", approved.participant_id, input=answers)
    assert code == 0, err
    assert "1/12  [00:06] Participant: I started at Riverton Community Health" in out
    assert (
        "'Riverton Community Health' → [ORGANISATION 1]  (organisation, from the identifier" in out
    )
    assert "10 replaced" in out and "2 kept as said" in out
    _, text, _ = run(cli, study, "transcript", "show", approved.participant_id)
    assert "I started at Riverton Community Health in March. [PERSON 1]'s my manager." in text
    assert "swim at the [OTHER 1] with DIANE." in text


def test_deidentify_refuses_a_transcript_not_yet_approved(cli: CliRun, study: Study) -> None:
    interview = make_interview(study, sample_segments())
    code, _, err = run(cli, study, "deidentify", interview.participant_id, "--accept-all")
    assert code == 1
    assert err == (
        f"error: {interview.participant_id}'s transcript (commencement) still needs review. "
        "Review it and send it to the participant; de-identify it once it is approved\n"
    )
    assert revisions(study, interview) == ["machine"]


def test_deidentify_with_nothing_to_replace_still_records_the_check(
    cli: CliRun, study: Study, approved: InterviewRow
) -> None:
    # no identifier list: the patterns still find phone, e-mail, address and date of birth
    code, out, _ = run(cli, study, "deidentify", approved.participant_id, "--accept-all")
    assert code == 0 and "5 replaced" in out
    assert revisions(study, approved) == ["machine", "deidentified"]
