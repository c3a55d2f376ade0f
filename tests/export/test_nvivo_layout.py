"""The NVivo exports follow NVivo's documented layout rules, checked on the files themselves
(issue 11, section 5): a Word paragraph per turn that begins with the speaker's label and ':'
(auto code by speaker), topics as Heading 1 (auto code by paragraph style), the time after the
label or not at all, the same labels in every transcript of a study; tab-delimited transcript
rows with a constant tab count, timespan-content-speaker columns and chronological timespans."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.core.models import Segment, Speaker
from fieldkit.services import approval
from fieldkit.services.deid import analysis_interviews
from fieldkit.services.demo import build_demo_study
from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.services.transcription import transcript_state
from fieldkit.store.repo import InterviewRow, Interviews

from .factory import add_question, approve, make_interview, sample_segments, seg
from .layout import (
    docx_labels,
    docx_layout,
    docx_violations,
    study_labels,
    txt_rows,
    txt_violations,
)

Approved = tuple[Study, InterviewRow]
IV, P, U = Speaker.INTERVIEWER, Speaker.PARTICIPANT, Speaker.UNKNOWN


def test_every_word_paragraph_begins_with_the_speaker_label(
    deidentified: Approved, tmp_path: Path
) -> None:
    study, interview = deidentified
    [path] = export(study, "nvivo-docx", tmp_path / "out").files
    labels = study_labels([interview.participant_id])
    assert docx_violations(path, labels) == []
    layout = docx_layout(path)
    assert layout[1] == (
        "Normal",
        "Interviewer: [00:00:00] Thanks for coming in. Can you tell me about your role?",
    )
    assert layout[2][1].startswith(f"{interview.participant_id}: [00:00:06] I started at")
    assert docx_labels(path, labels) == {"Interviewer", interview.participant_id}


def test_topics_stay_heading_1(deidentified: Approved, tmp_path: Path) -> None:
    study, _ = deidentified
    [path] = export(study, "nvivo-docx", tmp_path / "out").files
    topics = [t.title for t in study.schedule().topics]
    layout = docx_layout(path)
    assert [text for style, text in layout if style == "Heading 1"] == topics[:2]
    assert {style for style, _ in layout} == {"Heading 1", "Normal"}
    assert layout[3] == ("Heading 1", topics[1])  # before the question at 30.5 s


def test_timestamps_none_leaves_label_and_text(deidentified: Approved, tmp_path: Path) -> None:
    study, interview = deidentified
    [path] = export(study, "nvivo-docx", tmp_path / "out", timestamps="none").files
    assert docx_violations(path, study_labels([interview.participant_id]), "none") == []
    assert docx_layout(path)[1] == (
        "Normal",
        "Interviewer: Thanks for coming in. Can you tell me about your role?",
    )


def test_unknown_speakers_and_overlaps_keep_the_rules(study: Study, tmp_path: Path) -> None:
    """A turn nobody is labelled for, a participant who starts before the interviewer has
    finished, a turn that lasts under a tenth of a second, text with tabs: still a label first,
    constant tabs, valid chronological timespans."""
    segments: list[Segment] = [
        seg(0.0, 4.0, IV, "So tell me\tabout it."),
        seg(3.5, 9.0, P, "Well,  it was\t\tbusy."),
        Segment(9.0, 9.04, U, "Mm.", ()),
        seg(3600.0, 3605.5, IV, "An hour later: anything else?"),
    ]
    interview = make_interview(study, segments, duration_s=3606.0)
    add_question(study, interview, 0.5, 0)
    approve(study, interview, tmp_path / "copies")
    labels = study_labels([interview.participant_id])
    [docx_path] = export(study, "nvivo-docx", tmp_path / "w", identified=True).files
    assert docx_violations(docx_path, labels) == []
    assert docx_labels(docx_path, labels) == {
        "Interviewer",
        interview.participant_id,
        "Unknown speaker",
    }
    [txt_path] = export(study, "nvivo-txt", tmp_path / "t", identified=True).files
    assert txt_violations(txt_path, labels) == []
    rows = txt_rows(txt_path)
    assert rows[0] == ["00:00:00.0-00:00:04.0", "So tell me about it.", "Interviewer"]
    assert rows[2] == ["00:00:09.0-00:00:09.1", "Mm.", "Unknown speaker"]
    assert rows[3][0] == "01:00:00.0-01:00:05.5"


def test_nvivo_txt_rows_are_timespan_content_speaker(
    deidentified: Approved, tmp_path: Path
) -> None:
    study, interview = deidentified
    [path] = export(study, "nvivo-txt", tmp_path / "out").files
    assert txt_violations(path, study_labels([interview.participant_id])) == []
    rows = txt_rows(path)
    assert rows[0] == [
        "00:00:00.0-00:00:06.0",
        "Thanks for coming in. Can you tell me about your role?",
        "Interviewer",
    ]
    assert rows[1][0] == "00:00:06.5-00:00:30.0"  # two participant segments, one turn
    assert [row[2] for row in rows] == ["Interviewer", interview.participant_id] * 3


def test_one_participant_has_one_label_in_every_wave(study: Study, tmp_path: Path) -> None:
    first = make_interview(study, sample_segments())
    later = make_interview(
        study, sample_segments(), wave="follow-up", participant_id=first.participant_id
    )
    other = make_interview(study, sample_segments(), role="CLIN")
    for interview in (first, later, other):
        approve(study, interview, tmp_path / "copies")
    labels = study_labels([first.participant_id, other.participant_id])
    result = export(study, "nvivo-docx", tmp_path / "out", identified=True)
    assert len(result.files) == 3
    seen = {}
    for path, transcript in zip(result.files, result.transcripts, strict=True):
        assert docx_violations(path, labels) == []
        seen[path.name] = docx_labels(path, labels)
        assert seen[path.name] == {"Interviewer", transcript.participant_id}
    assert (
        seen[f"{first.participant_id}_commencement_IDENTIFIED.docx"]
        == (seen[f"{first.participant_id}_follow-up_IDENTIFIED.docx"])
    )


@pytest.fixture
def demo_with_three_approved(tmp_path: Path) -> Study:
    """The demo study with its two sent transcripts approved too: three approved transcripts of
    three participants."""
    study = build_demo_study(tmp_path / "demo", transcripts=True)
    for interview in Interviews(study.db).all():
        if transcript_state(study, interview.id) == "sent to participant":
            approval.decide(study, interview.participant_id, "approved", interview.wave)
    assert len(analysis_interviews(study)) == 3
    return study


def test_labels_are_identical_across_the_demo_studys_transcripts(
    demo_with_three_approved: Study, tmp_path: Path
) -> None:
    study = demo_with_three_approved
    pids = [i.participant_id for i in analysis_interviews(study)]
    labels = study_labels(pids)
    docx_files = export(study, "nvivo-docx", tmp_path / "w", identified=True).files
    txt_files = export(study, "nvivo-txt", tmp_path / "t", identified=True).files
    assert len(docx_files) == len(txt_files) == 3
    used: set[str] = set()
    for pid, docx_path, txt_path in zip(pids, docx_files, txt_files, strict=True):
        assert docx_violations(docx_path, labels) == []
        assert txt_violations(txt_path, labels) == []
        in_docx = docx_labels(docx_path, labels)
        assert in_docx <= {"Interviewer", "Unknown speaker", pid}
        assert {"Interviewer", pid} <= in_docx
        assert {row[2] for row in txt_rows(txt_path)} == in_docx
        used |= in_docx
    # One case per person in NVivo: the interviewer is "Interviewer" in every transcript, each
    # participant is their ID.
    assert used - {"Unknown speaker"} == {"Interviewer", *pids}
