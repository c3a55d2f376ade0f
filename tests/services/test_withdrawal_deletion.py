"""Issue 9 items 9 and 10: with `withdrawn_data = "delete"` a withdrawal leaves no byte of what
was said anywhere in the study folder, at every stage: a withdrawal decision after approval,
and a withdrawal of consent.

A unique word enters through the participant's returned copy, so it is in the returned file,
the participant's revision, the de-identified revision, the full-text index and the exports;
after the withdrawal every file of the study folder is read byte by byte (zip members, such as
.docx and .qdpx parts, unpacked) and the word must be nowhere.
"""

from __future__ import annotations

import dataclasses
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document

from fieldkit.config import write_config
from fieldkit.core.models import InterviewStatus
from fieldkit.core.workflow import TranscriptState
from fieldkit.errors import FieldkitError
from fieldkit.services.approval import copies, decisions, states
from fieldkit.services.deid import deidentify
from fieldkit.services.export import export
from fieldkit.services.participants import get_participant
from fieldkit.services.study import Study, now_iso, open_study
from fieldkit.services.withdrawal import withdraw_participant
from fieldkit.store.deid_repo import TranscriptSearch
from fieldkit.store.repo import Events, InterviewRow, Interviews, Jobs, Recordings, Transcripts
from tests.conftest import CliRun
from tests.export.factory import make_interview, sample_segments

# A word no transcript has, starting with letters no other word starts with (the full-text
# index stores a term as the difference from the term before it), unchanged by stemming.
WORD = "Zyqvorbl"


def delete_policy(study: Study) -> None:
    approval = dataclasses.replace(study.config.approval, withdrawn_data="delete")
    study.config = dataclasses.replace(study.config, approval=approval)
    write_config(study.paths.config, study.config)


def where_is(root: Path, word: str = WORD) -> list[str]:
    """Every file under `root` (and zip member) holding `word` in any case, as UTF-8 or
    UTF-16 bytes."""
    needles = [word.lower().encode(), word.lower().encode("utf-16-le")]
    found: list[str] = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        for name, data in _blobs(path):
            if any(needle in data.lower() for needle in needles):
                found.append(name)
    return found


def _blobs(path: Path) -> Iterator[tuple[str, bytes]]:
    data = path.read_bytes()
    yield str(path), data
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                yield f"{path}!{member}", archive.read(member)


def add_recording(study: Study, interview: InterviewRow) -> Path:
    """A recording file and its row (the bytes do not matter: the file must go)."""
    path = study.paths.audio / f"{interview.participant_id}_{interview.wave}.wav"
    path.write_bytes(b"RIFF" + os.urandom(256))
    with study.transaction():
        Recordings(study.db).insert(
            interview_id=interview.id,
            path=study.paths.relative(path),
            samplerate=16000,
            channels=2,
            channel_map=("interviewer", "participant"),
            source="import",
            offset_s=0.0,
            duration_s=80.0,
            status="complete",
            started_at=now_iso(),
        )
    return path


def return_with_word(study: Study, interview: InterviewRow, folder: Path) -> Path:
    """Send the .docx copy, add WORD to a participant's turn as the participant would in Word,
    save the returned file in `folder`, and store it."""
    folder.mkdir(parents=True, exist_ok=True)
    sent = folder / f"{interview.participant_id}_{interview.wave}.docx"
    copies.send_copy(study, interview.participant_id, sent, interview.wave)
    document = Document(str(sent))
    turn = next(p for p in document.paragraphs if "A long journey." in p.text)
    turn.runs[-1].text += f" The {WORD} garden helped me most."
    returned = folder / f"{interview.participant_id}_{interview.wave}.returned.docx"
    document.save(str(returned))
    back = copies.read_returned(study, interview.participant_id, returned, interview.wave)
    copies.accept_returned(study, back)
    return returned


@pytest.fixture
def exported(study: Study, tmp_path: Path) -> tuple[Study, InterviewRow, InterviewRow, Path]:
    """Two approved, de-identified and exported participants; the first said WORD (in their
    returned copy). Returns (study, theirs, the other, the export outside the study)."""
    delete_policy(study)
    theirs = make_interview(study, sample_segments())
    other = make_interview(study, sample_segments())
    add_recording(study, theirs)
    add_recording(study, other)
    Events(study.db).add(theirs.id, 12.0, "note", now_iso(), text=f"mentions {WORD} twice")
    for interview in (theirs, other):
        states.mark_reviewed(study, interview.participant_id)
    return_with_word(study, theirs, study.root / "returned")  # inside the study folder
    decisions.decide(study, theirs.participant_id, "approved-with-changes")
    copies.send_copy(study, other.participant_id, tmp_path / "other-copy.txt")
    decisions.decide(study, other.participant_id, "approved")
    for interview in (theirs, other):
        deidentify(study, interview.participant_id)
    export(study, "nvivo-docx", study.paths.exports / "nvivo")  # one file each
    export(study, "csv", study.paths.exports / "tables")  # one file for both
    outside = tmp_path / "elsewhere"
    export(study, "qdpx", outside)
    assert where_is(study.root), "the word must be there before the withdrawal"
    assert where_is(outside)
    return study, theirs, other, outside


def assert_gone(study: Study, interview: InterviewRow) -> None:
    # With the study still open (the app stays open after a deletion), then closed.
    assert where_is(study.root) == []
    study.close()
    assert where_is(study.root) == []
    for table in ("transcripts", "jobs", "recordings"):
        assert study.db[table].count_where("interview_id = ?", [interview.id]) == 0
    assert states.approval_state(study, interview.id) is TranscriptState.WITHDRAWN


def test_withdrawn_after_approval_leaves_no_byte(
    exported: tuple[Study, InterviewRow, InterviewRow, Path],
) -> None:
    study, theirs, other, outside = exported
    before = Transcripts(study.db).for_interview(other.id)
    outcome = decisions.decide(study, theirs.participant_id, "withdrawn")
    assert outcome.state is TranscriptState.WITHDRAWN and outcome.deletion is not None
    deletion = outcome.deletion
    assert deletion.counts.transcripts == 3  # machine, participant's, de-identified
    assert deletion.database_clean and not deletion.failed
    names = {p.name for p in deletion.removed}
    assert f"{theirs.participant_id}_commencement.wav" in names
    assert f"{theirs.participant_id}_commencement.docx" in names  # the copy sent
    assert f"{theirs.participant_id}_commencement.returned.docx" in names
    assert {"turns.csv", "fieldkit-project.qdpx"} <= names  # by recorded path, not by name
    assert {p.name for p in deletion.shared_exports} == {"turns.csv", "fieldkit-project.qdpx"}
    assert_gone(study, theirs)
    assert not (outside / "fieldkit-project.qdpx").exists()
    # the other participant keeps everything, and the rebuilt index still finds their words
    assert Transcripts(study.db).for_interview(other.id) == before
    assert (study.paths.exports / "nvivo" / f"{other.participant_id}_commencement.docx").exists()
    assert (study.paths.audio / f"{other.participant_id}_commencement.wav").exists()
    hits = TranscriptSearch(study.db).participant_hits("journey")
    assert hits and {h.interview_id for h in hits} == {other.id}
    study.db.execute("INSERT INTO segments_fts (segments_fts) VALUES ('integrity-check')")
    log = json.dumps(list(study.db["audit_log"].rows))
    assert WORD.lower() not in log.lower()
    assert study.paths.database.with_name("fieldkit.db-wal").stat().st_size == 0


def test_consent_withdrawn_deletes_every_interview_at_any_stage(
    study: Study, cli: CliRun, tmp_path: Path
) -> None:
    """Returned (commencement) and still in review (follow-up): `consent --withdraw --yes`."""
    delete_policy(study)
    commencement = make_interview(study, sample_segments())
    pid = commencement.participant_id
    add_recording(study, commencement)
    states.mark_reviewed(study, pid)
    return_with_word(study, commencement, study.root / "copies")
    follow_up = make_interview(study, sample_segments(), participant_id=pid, wave="follow-up")
    Events(study.db).add(follow_up.id, 3.0, "marker", now_iso(), text=f"{WORD} again")
    study.close()
    assert where_is(study.root)

    result = cli("consent", pid, "--withdraw", "--yes", "--study", study.root)
    assert result.exit_code == 0, result.output
    assert f"{pid}: consent withdrawn" in result.stdout
    assert "deleted: 3 transcript revisions" in result.stdout  # machine ×2, participant's
    assert "outside fieldkit's reach" in result.stderr  # a copy was sent
    study = open_study(study.root)
    assert get_participant(study, pid).status.value == "withdrawn"
    assert_gone(study, commencement)
    assert states.approval_state_or_none(study, follow_up.id) is TranscriptState.WITHDRAWN
    moves = states.state_history(study, follow_up.id)
    assert moves[-1].from_state == "needs review" and "consent withdrawn" in (moves[-1].note or "")

    again = cli("consent", pid, "--withdraw", "--yes", "--study", study.root)
    assert again.exit_code == 1 and "has already withdrawn" in again.stderr


def counts(root: Path) -> dict[str, int]:
    study = open_study(root)
    try:
        tables = ("transcripts", "segments", "recordings", "approval_moves", "audit_log")
        return {t: study.db[t].count for t in tables}
    finally:
        study.close()


def test_without_a_terminal_and_without_yes_nothing_changes(
    study: Study, cli: CliRun, tmp_path: Path
) -> None:
    delete_policy(study)
    interview = make_interview(study, sample_segments())
    audio = add_recording(study, interview)
    states.mark_reviewed(study, interview.participant_id)
    copies.send_copy(study, interview.participant_id, tmp_path / "copy.txt")
    decisions.decide(study, interview.participant_id, "approved")
    study.close()
    before = counts(study.root)
    for args in (
        ("consent", interview.participant_id, "--withdraw"),
        ("approval", "decide", interview.participant_id, "withdrawn"),
    ):
        result = cli(*args, "--study", study.root, input="y\n")
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
        assert "no terminal to ask" in result.stderr and "--yes" in result.stderr
        assert counts(study.root) == before and audio.exists()
    study = open_study(study.root)
    assert get_participant(study, interview.participant_id).status.value == "consented"
    assert states.approval_state(study, interview.id) is TranscriptState.APPROVED


def test_at_a_terminal_it_asks_first(
    study: Study, cli: CliRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fieldkit.cli.deletion.stdin_is_terminal", lambda: True)
    delete_policy(study)
    interview = make_interview(study, sample_segments())
    audio = add_recording(study, interview)
    pid = interview.participant_id
    study.close()
    before = counts(study.root)
    declined = cli("consent", pid, "--withdraw", "--study", study.root, input="n\n")
    assert declined.exit_code == 1 and "Withdraw and delete it now?" in declined.stdout
    assert "nothing changed" in declined.stdout
    assert counts(study.root) == before and audio.exists()
    accepted = cli("consent", pid, "--withdraw", "--study", study.root, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "deleted: 1 transcript revision," in accepted.stdout and not audio.exists()
    # nothing was sent, so there is nothing to say about copies beyond reach
    assert "outside fieldkit's reach" not in accepted.stderr


def test_an_illegal_decision_is_refused_before_asking(
    study: Study, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("fieldkit.cli.deletion.stdin_is_terminal", lambda: True)
    delete_policy(study)
    interview = make_interview(study, sample_segments())  # needs review
    study.close()
    result = cli("approval", "decide", interview.participant_id, "withdrawn", "--study", study.root)
    assert result.exit_code == 1 and "Delete it now?" not in result.stdout
    assert "still needs review; decisions come after" in result.stderr


def test_withdrawn_after_approval_keeps_the_data_by_default(
    study: Study, tmp_path: Path, cli: CliRun
) -> None:
    interview = make_interview(study, sample_segments())
    states.mark_reviewed(study, interview.participant_id)
    copies.send_copy(study, interview.participant_id, tmp_path / "copy.txt")
    decisions.decide(study, interview.participant_id, "approved")
    study.close()
    result = cli("approval", "decide", interview.participant_id, "withdrawn", "--study", study.root)
    assert result.exit_code == 0, result.output  # no question: nothing is deleted
    assert "withdrawn" in result.stdout and "deleted" not in result.stdout
    study = open_study(study.root)
    assert states.approval_state(study, interview.id) is TranscriptState.WITHDRAWN
    assert Transcripts(study.db).for_interview(interview.id)
    again = cli("approval", "decide", interview.participant_id, "withdrawn", "--study", study.root)
    assert again.exit_code == 1 and "was already withdrawn" in again.stderr


def test_a_running_transcription_stops_the_deletion(study: Study) -> None:
    delete_policy(study)
    interview = make_interview(study, None)
    audio = add_recording(study, interview)
    job = Jobs(study.db).add(interview.id, "tiny.en", now_iso())
    Jobs(study.db).claim(job, os.getpid(), now_iso())  # this process stands in for the worker
    with pytest.raises(FieldkitError, match="is being transcribed"):
        withdraw_participant(study, interview.participant_id)
    assert audio.exists() and Jobs(study.db).get(job).status == "running"
    assert study.db["audit_log"].count_where("action = 'withdrawn interview data deleted'") == 0
    # consent is withdrawn already; once the worker is gone, running it again deletes the rest
    Jobs(study.db).update(job, status="failed")
    outcome = withdraw_participant(study, interview.participant_id)
    assert not outcome.newly_withdrawn and outcome.deletion is not None
    assert not audio.exists()
    assert Interviews(study.db).get(interview.id).status == InterviewStatus.ENDED.value


def test_a_program_reading_the_study_is_reported_and_the_journal_emptied_later(
    exported: tuple[Study, InterviewRow, InterviewRow, Path],
) -> None:
    import sqlite3

    study, theirs, _, _ = exported
    reader = sqlite3.connect(study.paths.database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT count(*) FROM segments").fetchone()  # holds a read snapshot
    study.db.execute("PRAGMA busy_timeout = 200")  # do not wait 10 s for it
    outcome = decisions.decide(study, theirs.participant_id, "withdrawn")
    assert outcome.deletion is not None and not outcome.deletion.database_clean
    reader.execute("COMMIT")
    reader.close()
    study.close()  # the last connection to close empties the journal
    assert where_is(study.root) == []


def test_stopped_half_way_it_finishes_when_run_again(
    study: Study, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fieldkit stops after removing the files, before the deletion commits: the rows are still
    there, so running the withdrawal again deletes them."""
    from fieldkit.services import deletion, withdrawal

    delete_policy(study)
    interview = make_interview(study, sample_segments())
    audio = add_recording(study, interview)

    def remove_then_stop(plan: deletion.DeletionPlan) -> None:
        deletion.remove_files(plan)
        raise KeyboardInterrupt  # the user's Ctrl+C, or a crash, at the worst moment

    monkeypatch.setattr(withdrawal, "remove_files", remove_then_stop)
    with pytest.raises(KeyboardInterrupt):
        withdraw_participant(study, interview.participant_id)
    assert not audio.exists() and Transcripts(study.db).for_interview(interview.id)
    monkeypatch.setattr(withdrawal, "remove_files", deletion.remove_files)
    outcome = withdraw_participant(study, interview.participant_id)
    assert outcome.deletion is not None and outcome.deletion.counts.transcripts == 1
    assert not Transcripts(study.db).for_interview(interview.id)
    with pytest.raises(FieldkitError, match="has already withdrawn"):
        withdraw_participant(study, interview.participant_id)
