"""De-identify → export in every format → open each export back: no identifier and no key entry
survives anywhere, layouts are what NVivo, REFI-QDA programs and scripts expect."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import pytest

from fieldkit.core.models import Speaker
from fieldkit.errors import FieldkitError
from fieldkit.services.deid import deidentify
from fieldkit.services.export import FORMATS, export
from fieldkit.services.study import Study
from fieldkit.services.transcription import load_transcript
from fieldkit.store.deid_repo import DeidKeys, Exports
from fieldkit.store.repo import AuditLog, InterviewRow, Transcripts

from .conftest import PROJECT_XSD, all_text, docx_text
from .factory import ORIGINALS, approve, make_interview, sample_segments, send

Approved = tuple[Study, InterviewRow]


def key_forms(study: Study, interview: InterviewRow) -> list[str]:
    return [
        form for entry in DeidKeys(study.db).for_interview(interview.id) for form in entry.forms
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_identifier_and_no_key_in_any_export(
    deidentified: Approved, tmp_path: Path, fmt: str
) -> None:
    study, interview = deidentified
    forms = key_forms(study, interview)
    assert {"Diane", "DIANE", "0412 345 678", "12 Smith Street"} <= set(forms)  # the key is kept
    result = export(study, fmt, tmp_path / "out")
    assert result.files and all(f.is_file() for f in result.files)
    for path in result.files:
        text = all_text(path).lower()
        if path.suffix == ".docx":
            text += docx_text(path).lower()
        for original in [*ORIGINALS, *forms]:
            assert original.lower() not in text, f"{original!r} leaked into {path.name}"
        assert "[person 1]" in text and "[phone 2]" in text  # the placeholders are there
    assert result.notes == []


def test_the_deidentified_revision_is_a_revision_like_any_other(deidentified: Approved) -> None:
    study, interview = deidentified
    rows = Transcripts(study.db).for_interview(interview.id)
    assert [(r.revision, r.kind) for r in rows] == [(0, "machine"), (1, "deidentified")]
    machine = Transcripts(study.db).segments(rows[0].id)
    assert "Diane's my manager" in machine[1].text  # revision 0 is untouched
    view = load_transcript(study, interview.participant_id)
    assert view.segments[1].text == (
        "I started at [ORGANISATION 1] in March. [PERSON 1]'s my manager."
    )
    for segment in view.segments:  # word timings carry no identifier either
        for word in segment.words:
            assert "diane" not in word.word.lower() and "riverton" not in word.word.lower()


def test_docx_has_headings_and_a_paragraph_per_turn(deidentified: Approved, tmp_path: Path) -> None:
    import docx

    study, interview = deidentified
    [path] = export(study, "nvivo-docx", tmp_path / "out").files
    assert path.name == f"{interview.participant_id}_commencement.docx"
    document = docx.Document(str(path))
    layout = [(p.style.name, p.text) for p in document.paragraphs]
    topics = [t.title for t in study.schedule().topics]
    assert layout[0] == ("Heading 1", topics[0])
    assert layout[1] == (
        "Normal",
        "Interviewer: [00:00:00] Thanks for coming in. Can you tell me about your role?",
    )
    assert layout[2][1].startswith(f"{interview.participant_id}: [00:00:06] I started at")
    assert layout[3] == ("Heading 1", topics[1])  # before the question at 30.5 s
    assert layout[4][1].startswith("Interviewer: [00:00:30] What has your journey")
    headings = [text for style, text in layout if style == "Heading 1"]
    assert headings == topics[:2]
    assert document.core_properties.author == "fieldkit"


def test_nvivo_txt_rows_parse(deidentified: Approved, tmp_path: Path) -> None:
    study, interview = deidentified
    [path] = export(study, "nvivo-txt", tmp_path / "out").files
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8-sig").splitlines()]
    assert all(len(row) == 3 for row in rows)
    spans = [row[0] for row in rows]
    assert spans[0] == "00:00:00.0-00:00:06.0"
    assert spans[1] == "00:00:06.5-00:00:30.0"  # two participant segments, one turn
    assert [row[2] for row in rows] == ["Interviewer", interview.participant_id] * 3
    assert rows[3][1] == "A long journey. You can call me on [PHONE 1] or [PHONE 2]. " + (
        "Or write to [EMAIL 1], I live at [ADDRESS 1]."
    )


def test_qdpx_is_a_valid_refi_qda_project(deidentified: Approved, tmp_path: Path) -> None:
    study, interview = deidentified
    [path] = export(study, "qdpx", tmp_path / "out").files
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        xml = archive.read("project.qde").decode("utf-8")
        sources = [n for n in names if n.startswith("Sources/")]
        assert len(sources) == 1 and sources[0].endswith(".txt")
        source_text = archive.read(sources[0]).decode("utf-8")
    if PROJECT_XSD.is_file():
        import xmlschema

        xmlschema.XMLSchema(str(PROJECT_XSD)).validate(xml)
    import xml.etree.ElementTree as ET

    ns = {"q": "urn:QDA-XML:project:1.0"}
    root = ET.fromstring(xml)
    [case] = root.findall("q:Cases/q:Case", ns)
    assert case.get("name") == interview.participant_id
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", ns)}
    values = {
        variables[v.find("q:VariableRef", ns).get("targetGUID")]: v.find("q:TextValue", ns).text  # type: ignore[union-attr]
        for v in case.findall("q:VariableValue", ns)
    }
    assert values == {"site": "Site 1", "role": "PEER", "wave": "commencement"}
    [source] = root.findall("q:Sources/q:TextSource", ns)
    guid = source.get("guid")
    assert source.get("plainTextPath") == f"internal://{guid}.txt"
    assert sources[0] == f"Sources/{guid}.txt"
    assert case.find("q:SourceRef", ns).get("targetGUID") == guid  # type: ignore[union-attr]
    # each turn is a selection coded by its speaker, at the right characters
    codes = {c.get("guid"): c.get("name") for c in root.iter(f"{{{ns['q']}}}Code")}
    coded = [
        (
            codes[sel.find("q:Coding/q:CodeRef", ns).get("targetGUID")],  # type: ignore[union-attr]
            source_text[int(sel.get("startPosition", 0)) : int(sel.get("endPosition", 0))],
        )
        for sel in source.findall("q:PlainTextSelection", ns)
    ]
    speakers = [(code, text) for code, text in coded if code in ("Interviewer", "Participant")]
    assert speakers[0] == (
        "Interviewer",
        "Interviewer: [00:00:00] Thanks for coming in. Can you tell me about your role?",
    )
    assert speakers[1][0] == "Participant" and "[PERSON 1]'s my manager" in speakers[1][1]
    topics = [t.title for t in study.schedule().topics]
    topic_stretches = [(code, text) for code, text in coded if code in topics]
    assert [code for code, _ in topic_stretches] == topics[:2]
    assert topic_stretches[1][1].startswith(topics[1] + "\nInterviewer: [00:00:30]")


def test_csv_and_json_hold_turns_with_times(deidentified: Approved, tmp_path: Path) -> None:
    study, interview = deidentified
    [csv_path] = export(study, "csv", tmp_path / "csv").files
    with csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    assert rows[0]["speaker"] == Speaker.INTERVIEWER.value and rows[0]["start"] == "00:00:00"
    assert rows[1]["label"] == interview.participant_id and rows[1]["start_s"] == "6.5"
    assert rows[3]["topic"] == study.schedule().topics[1].title
    [json_path] = export(study, "json", tmp_path / "json").files
    [data] = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["participant"] == interview.participant_id and data["deidentified"] is True
    assert [t["text"] for t in data["turns"]] == [r["text"] for r in rows]
    assert data["turns"][5]["end_s"] == 80.0


def test_identified_export_is_audited_and_says_so(approved: Approved, tmp_path: Path) -> None:
    study, interview = approved  # approved, not de-identified
    with pytest.raises(FieldkitError, match="not de-identified yet"):
        export(study, "csv", tmp_path / "a", [interview.participant_id])
    result = export(study, "nvivo-txt", tmp_path / "b", identified=True)
    [path] = result.files
    assert path.name.endswith("_IDENTIFIED.txt")
    assert "Diane" in path.read_text(encoding="utf-8-sig")
    entry = AuditLog(study.db).entries()[-1]
    assert entry["action"] == "identified export"
    detail = json.loads(entry["detail"])
    assert detail["transcripts"] == [
        {"participant": interview.participant_id, "wave": "commencement", "revision": 0}
    ]
    assert "Diane" not in entry["detail"]  # the audit log never holds transcript text
    [logged] = Exports(study.db).all()
    assert logged["identified"] == 1 and logged["format"] == "nvivo-txt"


def test_only_approved_transcripts_are_exported(
    study: Study, tmp_path: Path, deidentified: Approved
) -> None:
    _, approved_one = deidentified
    waiting = make_interview(study, sample_segments())
    send(study, waiting, tmp_path / "copies")  # sent, not yet approved
    with pytest.raises(FieldkitError, match="no approved transcript"):
        export(study, "csv", tmp_path / "a", [waiting.participant_id])
    result = export(study, "csv", tmp_path / "b")
    assert [t.participant_id for t in result.transcripts] == [approved_one.participant_id]


def test_approved_but_not_deidentified_is_skipped_with_a_note(
    study: Study, tmp_path: Path, deidentified: Approved
) -> None:
    other = make_interview(study, sample_segments())
    approve(study, other, tmp_path / "copies")
    result = export(study, "json", tmp_path / "out")
    assert len(result.transcripts) == 1
    assert result.notes == [
        f"skipped {other.participant_id} (commencement) is not de-identified yet: "
        f"fieldkit deidentify {other.participant_id}"
    ]


def test_an_identifier_listed_later_is_warned_about(deidentified: Approved, tmp_path: Path) -> None:
    from fieldkit.services.deid import add_identifier

    study, interview = deidentified
    add_identifier(study, "Smith", "person")  # was only inside the address: already gone
    add_identifier(study, "journey", "other")  # still in the de-identified text
    result = export(study, "csv", tmp_path / "out")
    [note] = result.notes
    assert note.startswith(f"warning: {interview.participant_id} (commencement) still contains 1")
    deidentify(study, interview.participant_id)  # again: a new revision, placeholders kept
    result = export(study, "csv", tmp_path / "again")
    assert result.notes == []
    text = result.files[0].read_text(encoding="utf-8")
    assert "[OTHER 2]" in text and "[PERSON 1]'s my manager" in text


def test_exports_never_overwrite(deidentified: Approved, tmp_path: Path) -> None:
    study, _ = deidentified
    out = tmp_path / "out"
    export(study, "nvivo-docx", out)
    before = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    with pytest.raises(FieldkitError, match="already holds"):
        export(study, "nvivo-docx", out)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir()} == before
    assert len(Exports(study.db).all()) == 1


def test_unknown_format_and_participant_are_one_line_errors(
    deidentified: Approved, tmp_path: Path
) -> None:
    study, _ = deidentified
    with pytest.raises(FieldkitError, match="unknown export format"):
        export(study, "pdf", tmp_path / "x")
    with pytest.raises(FieldkitError, match="no participant"):
        export(study, "csv", tmp_path / "x", ["NOBODY"])
    assert not (tmp_path / "x").exists()
