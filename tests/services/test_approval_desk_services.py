"""The small services behind the app's approval desk: the copy folder remembered per study, a
free default copy name, the checks a face makes before asking, and exporting one interview."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services.approval import (
    accept_returned,
    check_receive,
    check_send,
    copy_folder,
    default_copy_name,
    read_returned,
    send_copy,
)
from fieldkit.services.deid import deidentify
from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.store.repo import Interviews

REVIEWED, SENT, APPROVED, NEEDS_REVIEW = (
    "INTSTA007-CLIN",
    "INTSTA009-CLIN",
    "INTSTA010-PEER",
    "INTSTA006-PEER",
)


@pytest.fixture
def demo(tmp_path: Path) -> Study:
    from fieldkit.services.demo import build_demo_study

    return build_demo_study(tmp_path / "demo", actor="reviewer", transcripts=True)


def test_the_copy_folder_is_the_one_used_last(demo: Study, tmp_path: Path) -> None:
    # The demo wrote its copies to the default folder.
    assert copy_folder(demo) == demo.paths.exports / "participant-copies"
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    send_copy(demo, REVIEWED, outbox / "copy.txt")
    assert copy_folder(demo) == outbox
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    returned = inbox / "back.txt"
    returned.write_bytes((outbox / "copy.txt").read_bytes())
    accept_returned(demo, read_returned(demo, REVIEWED, returned))
    assert copy_folder(demo) == inbox  # read back later than anything was written


def test_a_new_study_starts_with_the_default_copy_folder(study: Study) -> None:
    assert copy_folder(study) == study.paths.exports / "participant-copies"


def test_the_default_copy_name_never_names_an_existing_file(tmp_path: Path) -> None:
    assert default_copy_name("INTSTA001-PEER", "commencement", "docx") == (
        "INTSTA001-PEER_commencement.docx"
    )
    (tmp_path / "INTSTA001-PEER_commencement.docx").touch()
    (tmp_path / "INTSTA001-PEER_commencement-2.docx").touch()
    assert default_copy_name("INTSTA001-PEER", "commencement", "docx", tmp_path) == (
        "INTSTA001-PEER_commencement-3.docx"
    )
    assert default_copy_name("INTSTA001-PEER", "commencement", "txt", tmp_path) == (
        "INTSTA001-PEER_commencement.txt"
    )


def test_the_checks_before_asking_refuse_as_the_moves_would(demo: Study) -> None:
    assert check_send(demo, REVIEWED).participant_id == REVIEWED
    assert check_send(demo, SENT).participant_id == SENT  # out already: it may go again
    with pytest.raises(WorkflowError, match="still needs review; sign it off before sending"):
        check_send(demo, NEEDS_REVIEW)
    assert check_receive(demo, SENT).participant_id == SENT
    with pytest.raises(WorkflowError, match="nothing can come back before it is sent"):
        check_receive(demo, REVIEWED)


def test_export_of_chosen_interviews(demo: Study, tmp_path: Path) -> None:
    deidentify(demo, APPROVED)
    [approved] = Interviews(demo.db).for_participant(APPROVED)
    result = export(demo, "nvivo-txt", tmp_path / "one", interview_ids=[approved.id])
    assert [t.participant_id for t in result.transcripts] == [APPROVED]
    [not_approved] = Interviews(demo.db).for_participant(SENT)
    with pytest.raises(FieldkitError, match=f"{SENT} \\(commencement\\) is not approved"):
        export(demo, "nvivo-txt", tmp_path / "two", interview_ids=[not_approved.id])
    assert not (tmp_path / "two").exists()
