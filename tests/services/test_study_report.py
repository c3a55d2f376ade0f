"""The study report's figures are true (issue 9, items 2, 10 and 22): one n for the overall and
per-role durations, an interview with no audio is not "audio-recorded", plural forms, ranges at
one precision, withdrawals counted and left out of every figure (term search too), and
interviewers named from the study's settings, never from the computer's login."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from fieldkit.config import load_config, write_config
from fieldkit.core.models import Segment, Speaker
from fieldkit.services import approval
from fieldkit.services.participants import withdraw_consent
from fieldkit.services.study import Study
from fieldkit.store.repo import InterviewRow
from tests.conftest import CliRun
from tests.export.factory import add_note, make_interview, seg, send

IV, P = Speaker.INTERVIEWER, Speaker.PARTICIPANT


def talk(word: str) -> list[Segment]:
    """A short interview in which the participant raises recovery and says `word`."""
    return [
        seg(0.0, 4.0, IV, "How is the new unit going?"),
        seg(4.0, 9.0, P, f"It is a recovery unit and a {word} for us."),
        seg(9.0, 13.0, IV, "You mentioned recovery. What does recovery mean to you?"),
        seg(13.0, 18.0, P, "A life of my own."),
    ]


def report(cli: CliRun, study: Study) -> dict:  # type: ignore[type-arg]
    result = cli("report", "--json", "--study", str(study.root))
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def report_text(cli: CliRun, study: Study) -> str:
    result = cli("report", "--study", str(study.root))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_overall_and_per_role_durations_have_the_same_n(cli: CliRun, study: Study) -> None:
    make_interview(study, duration_s=30 * 60)
    make_interview(study, duration_s=40 * 60, role="CLIN")
    make_interview(study, duration_s=0.0)  # ended with nothing recorded
    data = report(cli, study)["durations_minutes"]
    assert data["overall"]["n"] == 2
    assert sum(s["n"] for s in data["by_role"].values()) == 2
    assert (data["by_role"]["PEER"]["n"], data["by_role"]["CLIN"]["n"]) == (1, 1)


def test_an_interview_with_no_audio_is_not_audio_recorded(cli: CliRun, study: Study) -> None:
    make_interview(study, duration_s=30 * 60)
    make_interview(study, duration_s=0.0)  # no recordings: the recorded total is 0
    make_interview(study, duration_s=None)
    data = report(cli, study)
    assert "1 interview was audio-recorded with 1 participant" in data["methods"]
    assert data["interviews_without_audio"] == 2
    assert data["participants"]["interviewed"] == 1
    assert data["interviews_per_wave"]["commencement"] == 1
    assert [i["minutes"] for i in data["interviews"]] == [30.0]
    assert "(2 interviews ended with no audio: not counted)" in report_text(cli, study)


def test_singular_and_plural_forms(cli: CliRun, study: Study, tmp_path: Path) -> None:
    interview = make_interview(
        study,
        [
            seg(0.0, 4.0, IV, "Is this a recovery unit?"),  # one breach
            seg(4.0, 9.0, P, "Recovery, yes, it is my journey."),
        ],
        duration_s=60.0,
    )
    add_note(study, interview, 3.0)
    methods = report(cli, study)["methods"]
    assert "The interview lasted 1 minute." in methods
    assert "1 interview was audio-recorded with 1 participant (1 peer support worker)" in methods
    assert "Field notes were taken during the interview." in methods
    text = report_text(cli, study)
    assert "recovery: raised by the participant in 1 of 1 transcript, followed up in 0; " in text
    assert "1 breach in 1 transcript" in text
    assert "(es)" not in text and "(s)" not in text
    terms = cli("terms", "journey", "--study", str(study.root))
    assert terms.stdout.splitlines()[0] == "journey: 1 of 1 transcript"


def test_a_duration_range_has_one_precision(cli: CliRun, study: Study) -> None:
    make_interview(study, duration_s=8.5 * 60)
    make_interview(study, duration_s=40 * 60)
    methods = report(cli, study)["methods"]
    assert "(SD 22.3, median 24.2, range 8.5–40.0)" in methods


def withdraw_transcript(study: Study, interview: InterviewRow, tmp_path: Path) -> None:
    send(study, interview, tmp_path / "copies")
    approval.decide(study, interview.participant_id, "withdrawn", interview.wave)


def three_with_withdrawals(study: Study, tmp_path: Path) -> None:
    """One interview that stays; one whose participant withdrew consent after it; one whose
    transcript the participant withdrew on review. All three said "journey"."""
    make_interview(study, talk("journey"), duration_s=30 * 60)
    gone = make_interview(study, talk("journey"), duration_s=50 * 60)
    withdraw_consent(study, gone.participant_id)
    declined = make_interview(study, talk("journey"), duration_s=70 * 60, role="CLIN")
    withdraw_transcript(study, declined, tmp_path)


def test_withdrawals_are_counted_and_left_out_of_every_figure(
    cli: CliRun, study: Study, tmp_path: Path
) -> None:
    three_with_withdrawals(study, tmp_path)
    data = report(cli, study)
    assert data["withdrawals"] == {
        "consent_withdrawn": 1,
        "consent_withdrawn_after_interview": 1,
        "transcripts_withdrawn": 1,
        "interviews_excluded": 2,
    }
    assert data["durations_minutes"]["overall"]["n"] == 1
    assert data["durations_minutes"]["overall"]["mean"] == 30.0
    assert data["participants"]["interviewed"] == 1
    assert data["interviews_per_wave"]["commencement"] == 1
    [term] = data["guarded_terms"]
    assert term["transcripts"] == 1 and term["raised_by_participant_in"] == 1
    assert data["approval"]["withdrawn"] == 1
    assert data["approval"]["sent_to_participants"] == 0  # the one sent was withdrawn
    methods = data["methods"]
    assert "1 interview was audio-recorded with 1 participant" in methods
    assert (
        "1 participant withdrew consent after being interviewed and 1 transcript was withdrawn "
        "by the participant on review; these 2 interviews are not included in the figures above."
    ) in methods
    text = report_text(cli, study)
    assert (
        "  1 participant withdrew consent (1 after being interviewed); 1 transcript withdrawn "
        "at review; 2 interviews left out of these figures"
    ) in text


def test_term_search_leaves_out_the_same_withdrawals(
    cli: CliRun, study: Study, tmp_path: Path
) -> None:
    three_with_withdrawals(study, tmp_path)
    result = cli("terms", "journey", "--json", "--study", str(study.root))
    [count] = json.loads(result.stdout)
    assert (count["transcripts"], count["of"]) == (1, 1)
    assert [p["participant"] for p in count["places"]] == ["INTSTA001-PEER"]


def test_a_withdrawal_that_deleted_the_data_is_still_counted(
    cli: CliRun, study: Study, tmp_path: Path
) -> None:
    config = load_config(study.root / "study.toml")
    policy = dataclasses.replace(config.approval, withdrawn_data="delete")
    write_config(study.root / "study.toml", dataclasses.replace(config, approval=policy))
    study.config = load_config(study.root / "study.toml")
    make_interview(study, talk("journey"), duration_s=30 * 60)
    declined = make_interview(study, talk("journey"), duration_s=45 * 60)
    withdraw_transcript(study, declined, tmp_path)
    data = report(cli, study)
    assert data["withdrawals"]["transcripts_withdrawn"] == 1
    assert data["withdrawals"]["interviews_excluded"] == 1
    assert data["durations_minutes"]["overall"]["n"] == 1  # its duration left out too
    assert data["approval"]["withdrawn"] == 1


def test_the_methods_name_interviewers_from_the_study_settings(cli: CliRun, study: Study) -> None:
    make_interview(study, duration_s=30 * 60, interviewer="jbloggs")  # the computer's login
    make_interview(study, duration_s=35 * 60, interviewer="slee")
    methods = report(cli, study)["methods"]
    assert methods.startswith("Semi-structured interviews were conducted by the interviewer on")
    assert "jbloggs" not in methods and "slee" not in methods

    path = study.root / "study.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("interviewers = []", 'interviewers = ["Jo Bloggs", "Sam Lee"]', 1),
        encoding="utf-8",
    )
    data = report(cli, study)
    assert "conducted by 2 interviewers (Jo Bloggs and Sam Lee) on" in data["methods"]
    assert data["interviewers"] == ["Jo Bloggs", "Sam Lee"]

    path.write_text(
        text.replace("interviewers = []", 'interviewers = ["Jo Bloggs"]', 1), encoding="utf-8"
    )
    assert "conducted by Jo Bloggs on 2025-03-03" in report(cli, study)["methods"]
