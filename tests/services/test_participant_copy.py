"""Reading returned copies: tracked changes in Word, IDs, encodings, paragraphs."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from fieldkit.export.participant_copy import (
    CopyTurn,
    DocumentId,
    ParticipantCopy,
    ReturnedCopyError,
    fingerprint,
    match_turns,
    read_copy,
    write_copy,
)

TURNS = (
    CopyTurn(0.5, "Interviewer", "How are you?"),
    CopyTurn(3.2, "P1", "I am well, thank you."),
    CopyTurn(62.0, "Interviewer", "Anything else?"),
)
LABELS = ("P1", "Interviewer", "Unknown speaker")


def make_copy(tmp_path: Path, suffix: str) -> tuple[Path, ParticipantCopy]:
    doc_id = DocumentId("P1", "commencement", 3, fingerprint("P1", "commencement", 3, TURNS))
    paper = ParticipantCopy(doc_id, "Your interview transcript", "Dear P1,\n\nPlease read.", TURNS)
    path = tmp_path / f"copy.{suffix}"
    write_copy(paper, path)
    return path, paper


@pytest.mark.parametrize("suffix", ["docx", "txt"])
def test_a_copy_reads_back_as_written(tmp_path: Path, suffix: str) -> None:
    path, paper = make_copy(tmp_path, suffix)
    back = read_copy(path, LABELS)
    assert back.document_id == paper.document_id
    assert [(t.clock, t.label, t.text) for t in back.turns] == [
        ("00:00", "Interviewer", "How are you?"),
        ("00:03", "P1", "I am well, thank you."),
        ("01:02", "Interviewer", "Anything else?"),
    ]
    assert match_turns(path, TURNS, back.turns) == [t.text for t in TURNS]


def test_fingerprints_differ_with_the_text() -> None:
    base = fingerprint("P1", "w", 1, TURNS)
    assert base == fingerprint("P1", "w", 1, TURNS)
    changed = (*TURNS[:2], CopyTurn(62.0, "Interviewer", "Anything more?"))
    assert fingerprint("P1", "w", 1, changed) != base
    assert fingerprint("P2", "w", 1, TURNS) != base
    assert fingerprint("P1", "w", 2, TURNS) != base


def test_tracked_changes_count_as_accepted(tmp_path: Path) -> None:
    """Word's track changes: an inserted run (w:ins) counts, a deleted one (w:delText) does not."""
    path, _ = make_copy(tmp_path, "docx")
    document = Document(str(path))
    paragraph = next(p for p in document.paragraphs if p.text.startswith("[00:03] P1:"))
    text_run = paragraph.runs[1]._r
    deleted = copy.deepcopy(text_run)
    t = deleted.find(qn("w:t"))
    t.tag = qn("w:delText")
    t.text = " Really."
    wrapper = paragraph._p.makeelement(qn("w:del"), {})
    wrapper.append(deleted)
    paragraph._p.append(wrapper)
    inserted = copy.deepcopy(text_run)
    inserted.find(qn("w:t")).text = " Mostly."
    insertion = paragraph._p.makeelement(qn("w:ins"), {})
    insertion.append(inserted)
    paragraph._p.append(insertion)
    document.save(str(path))
    back = read_copy(path, LABELS)
    assert back.turns[1].text == "I am well, thank you. Mostly."


def test_paragraphs_added_inside_a_turn_belong_to_it(tmp_path: Path) -> None:
    path, _ = make_copy(tmp_path, "docx")
    document = Document(str(path))
    last = document.paragraphs[-1]
    document.add_paragraph("And one more thing.")
    assert last.text.startswith("[01:02]")
    document.save(str(path))
    back = read_copy(path, LABELS)
    assert back.turns[-1].text == "Anything else? And one more thing."


def test_two_different_ids_are_refused(tmp_path: Path) -> None:
    path, paper = make_copy(tmp_path, "docx")
    document = Document(str(path))
    other = DocumentId("P2", "commencement", 3, paper.document_id.fingerprint)
    document.core_properties.identifier = other.encode()
    document.save(str(path))
    with pytest.raises(ReturnedCopyError, match="two different document IDs"):
        read_copy(path, LABELS)


def test_a_txt_saved_by_an_old_editor_reads(tmp_path: Path) -> None:
    path, _ = make_copy(tmp_path, "txt")
    text = path.read_text(encoding="utf-8").replace("thank you.", "thank you, café.")
    path.write_bytes(text.replace("\n", "\r\n").encode("cp1252"))
    back = read_copy(path, LABELS)
    assert back.turns[1].text == "I am well, thank you, café."


def test_text_before_the_first_turn_is_refused(tmp_path: Path) -> None:
    path, _ = make_copy(tmp_path, "txt")
    text = path.read_text(encoding="utf-8").replace(
        "=== Transcript ===\n", "=== Transcript ===\nMy notes here.\n"
    )
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ReturnedCopyError, match="text before the first turn"):
        read_copy(path, LABELS)


def test_turns_out_of_order_are_refused(tmp_path: Path) -> None:
    path, _ = make_copy(tmp_path, "txt")
    back = read_copy(path, LABELS)
    swapped = (back.turns[1], back.turns[0], back.turns[2])
    with pytest.raises(ReturnedCopyError, match="does not match the copy sent"):
        match_turns(path, TURNS, swapped)
