"""Issue 9 item 20, through the services: an identifier list with accents, typographic
apostrophes and abbreviations de-identifies a transcript that spells them plainly (as the speech
model does), the check before an export folds the same way, and the list refuses a second
spelling of a name it already holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.core.models import Speaker
from fieldkit.errors import FieldkitError
from fieldkit.services.deid import (
    add_identifier,
    deidentify,
    list_identifiers,
    remove_identifier,
)
from fieldkit.services.export import export
from fieldkit.services.study import Study
from fieldkit.services.transcription import load_transcript
from tests.export.factory import approve, make_interview, seg

P = Speaker.PARTICIPANT
SAID = [
    seg(0.0, 5.0, P, "zoe from st vincents rang siobhan's mum."),
    seg(5.0, 9.0, P, "Then Mary Anne and Mr Nguyen came on the 41 bus."),
]


@pytest.fixture
def approved(study: Study, tmp_path: Path) -> Study:
    interview = make_interview(study, SAID)
    approve(study, interview, tmp_path / "copies")
    return study


def test_a_list_written_with_accents_deidentifies_plain_speech(approved: Study) -> None:
    for text, category in [
        ("Zoë", "person"),
        ("Siobhán", "person"),
        ("St. Vincent’s", "organisation"),
        ("Mary-Anne", "person"),
    ]:
        add_identifier(approved, text, category)
    [interview] = approved_interviews(approved)
    result = deidentify(approved, interview)
    assert result.replaced == 4
    view = load_transcript(approved, interview)
    assert [s.text for s in view.segments] == [
        "[PERSON 1] from [ORGANISATION 1] rang [PERSON 2]'s mum.",
        "Then [PERSON 3] and Mr Nguyen came on the 41 bus.",
    ]


def test_the_check_before_export_folds_like_deidentification(
    approved: Study, tmp_path: Path
) -> None:
    [interview] = approved_interviews(approved)
    deidentify(approved, interview)
    add_identifier(approved, "Nguyễn", "person")  # listed after de-identification
    result = export(approved, "csv", tmp_path / "out")
    [note] = result.notes
    assert note.startswith(f"warning: {interview} (commencement) still contains 1 listed")


def test_a_second_spelling_of_a_listed_name_is_refused(study: Study) -> None:
    add_identifier(study, "Siobhán", "person")
    with pytest.raises(FieldkitError, match="'Siobhán' is already on the identifier list"):
        add_identifier(study, "siobhan", "person")
    add_identifier(study, "St. Vincent’s", "organisation")
    with pytest.raises(FieldkitError, match="already on the identifier list"):
        add_identifier(study, "St Vincent's", "organisation")
    assert [r.text for r in list_identifiers(study)] == ["St. Vincent’s", "Siobhán"]
    assert remove_identifier(study, "Siobhan").text == "Siobhán"  # found the same way
    assert [r.text for r in list_identifiers(study)] == ["St. Vincent’s"]


def approved_interviews(study: Study) -> list[str]:
    from fieldkit.services.deid import analysis_interviews

    return [i.participant_id for i in analysis_interviews(study)]
