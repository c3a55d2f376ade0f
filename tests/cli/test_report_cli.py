"""fieldkit report and fieldkit terms on the command line, with figures known in advance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fieldkit.core.models import Speaker
from fieldkit.services.study import Study
from tests.conftest import CliRun
from tests.export.factory import add_note, approve, make_interview, sample_segments, seg


def run(cli: CliRun, study: Study, *args: str) -> tuple[int, str, str]:
    result = cli(*args, "--study", str(study.root))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def three(study: Study, tmp_path: Path) -> Study:
    """Interviews of 30, 35 and 40 minutes; the first approved and with field notes."""
    first = make_interview(study, sample_segments(), duration_s=30 * 60, interviewer="alex")
    add_note(study, first, 100.0)
    approve(study, first, tmp_path / "copies")
    make_interview(study, duration_s=35 * 60, role="CLIN", interviewer="sam")
    make_interview(study, duration_s=40 * 60, site="Site 2", interviewer="alex")
    return study


def test_report_json_figures(cli: CliRun, three: Study) -> None:
    code, out, _ = run(cli, three, "report", "--json")
    assert code == 0
    data = json.loads(out)
    overall = data["durations_minutes"]["overall"]
    assert overall == {"n": 3, "mean": 35.0, "median": 35.0, "sd": 5.0, "min": 30.0, "max": 40.0}
    peer = data["durations_minutes"]["by_role"]["PEER"]
    assert (peer["n"], peer["mean"], peer["sd"]) == (2, 35.0, 7.07)
    assert data["participants"]["by_site_and_role"] == {
        "Site 1": {"PEER": 1, "CLIN": 1},
        "Site 2": {"PEER": 1, "CLIN": 0},
    }
    assert data["interviews_per_wave"] == {"commencement": 3, "follow-up": 0}
    assert data["approval"]["approved"] == 1 and data["approval"]["sent_to_participants"] == 1
    [term] = data["guarded_terms"]
    assert term["term"] == "recovery" and term["transcripts"] == 1
    assert "Field notes were taken during 1 of 3 interviews" in data["methods"]
    # No [study] interviewers setting: "the interviewer", never the logins the rows record.
    assert "conducted by the interviewer on 2025-03-03" in data["methods"]
    assert "alex" not in data["methods"] and "sam" not in data["methods"]


def test_report_text(cli: CliRun, three: Study) -> None:
    code, out, _ = run(cli, three, "report")
    assert code == 0
    assert "  overall   mean 35.0 min (SD 5.0; median 35.0; range 30.0–40.0), n = 3" in out
    assert "  CLIN      mean 35.0 min (median 35.0; range 35.0–35.0), n = 1" in out
    assert "Methods" in out and "Semi-structured interviews were conducted" in out


def test_terms_counts_participant_speech_in_latest_revisions(cli: CliRun, study: Study) -> None:
    P, I = Speaker.PARTICIPANT, Speaker.INTERVIEWER  # noqa: E741
    make_interview(study, sample_segments())  # the participant says "journey" at 36.5 s
    make_interview(study, [seg(0, 5, I, "Tell me about your journey."), seg(5, 9, P, "Fine.")])
    make_interview(study, [seg(0, 5, I, "And?"), seg(64, 70, P, "Our journeys differ, peer work.")])
    code, out, _ = run(cli, study, "terms", "journey", "peer work", "banana")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "journey: 2 of 3 transcripts"  # the interviewer's use does not count
    assert lines[1] == "  INTSTA001-PEER (commencement) at 00:36"
    assert lines[2] == "  INTSTA003-PEER (commencement) at 01:04"  # "journeys": stemmed
    assert lines[3] == "peer work: 1 of 3 transcripts"
    assert lines[-1] == "banana: 0 of 3 transcripts"
    code, out, _ = run(cli, study, "terms", "journey", "--json")
    [data] = json.loads(out)
    assert data["transcripts"] == 2 and data["of"] == 3
    assert data["places"][0] == {
        "participant": "INTSTA001-PEER",
        "wave": "commencement",
        "at": 36.5,
    }


def test_terms_search_the_latest_revision(cli: CliRun, study: Study, tmp_path: Path) -> None:
    from fieldkit.services.deid import add_identifier, deidentify

    interview = make_interview(study, sample_segments())
    approve(study, interview, tmp_path / "copies")
    assert run(cli, study, "terms", "Diane")[1].startswith("Diane: 1 of 1")
    add_identifier(study, "Diane", "person")
    deidentify(study, interview.participant_id)
    assert run(cli, study, "terms", "Diane")[1].startswith("Diane: 0 of 1")


def test_terms_mistakes(cli: CliRun, study: Study) -> None:
    code, _, err = run(cli, study, "terms", "?!")
    assert code == 1 and err.startswith("error: '?!' has no letters or digits")
