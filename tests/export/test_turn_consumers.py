"""Every place that reads a transcript as speaker turns agrees: the participant's copy, the
exports, `fieldkit transcript show` and the audit build the same turns with the same labels
(issue 9, item 23)."""

from __future__ import annotations

import csv
from pathlib import Path

from fieldkit.core.audit import audit_transcript
from fieldkit.core.models import Segment, Speaker
from fieldkit.services import approval
from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.services.transcription import load_transcript
from tests.conftest import CliRun

from .factory import approve, make_interview, seg

IV, P, U = Speaker.INTERVIEWER, Speaker.PARTICIPANT, Speaker.UNKNOWN
PID = "INTSTA001-PEER"


def awkward_transcript() -> list[Segment]:
    """Two participant segments, an interviewer question split around an empty segment, and a
    line nobody is labelled for."""
    return [
        seg(0.0, 3.0, IV, "Thanks for coming."),
        seg(3.0, 8.0, P, "Happy to be here."),
        seg(9.0, 12.0, P, "It is a recovery unit."),
        seg(15.0, 18.0, IV, "So, recovery."),
        Segment(18.0, 18.5, U, " "),
        seg(18.5, 21.0, IV, "What does it mean to you?"),
        seg(22.0, 24.0, U, "Mm, yes."),
    ]


EXPECTED = [
    ("00:00", "Interviewer", "Thanks for coming."),
    ("00:03", PID, "Happy to be here. It is a recovery unit."),
    ("00:15", "Interviewer", "So, recovery. What does it mean to you?"),
    ("00:22", "Unknown speaker", "Mm, yes."),
]


def test_the_participant_copy_reads_the_same_turns() -> None:
    turns = approval.copy_turns(awkward_transcript(), PID)
    assert [(t.clock, t.label, t.text) for t in turns] == EXPECTED
    # Every segment still belongs to a turn, so a returned copy rewrites all of them.
    groups = approval.turn_groups(awkward_transcript())
    assert sorted(i for g in groups for i in g) == list(range(7))


def test_exports_read_the_same_turns(study: Study, tmp_path: Path) -> None:
    interview = make_interview(study, awkward_transcript())
    assert interview.participant_id == PID
    approve(study, interview, tmp_path / "copies")
    [path] = export(study, "csv", tmp_path / "out", identified=True).files
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["start"][3:], r["label"], r["text"]) for r in rows] == EXPECTED
    assert [r["speaker"] for r in rows] == ["interviewer", "participant", "interviewer", "unknown"]


def test_transcript_show_prints_the_same_turns(cli: CliRun, study: Study) -> None:
    make_interview(study, awkward_transcript())
    result = cli("transcript", "show", PID, "--study", str(study.root))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()[1:]
    assert lines == [f"[{clock}] {label}: {text}" for clock, label, text in EXPECTED]


def test_the_audit_reads_the_interviewer_question_as_one_turn(study: Study) -> None:
    make_interview(study, awkward_transcript())
    segments = load_transcript(study, PID).segments
    [term] = audit_transcript(study.schedule().guarded_terms, segments).terms
    assert term.raised_at is not None and term.follow_up_asked
    assert term.follow_up_at == 15.0  # the turn starts with "So, recovery."
