"""REFI-QDA project export (.qdpx), which ATLAS.ti, MAXQDA, NVivo and other QDA programs open.

A .qdpx is a zip holding `project.qde` (QDA-XML, namespace urn:QDA-XML:project:1.0) and
`Sources/<guid>.txt`, one plain-text source per transcript. The project carries:
- a case per participant with the variables site, role and wave (waves joined when several);
- codes "Speaker › Interviewer / Participant" and "Topic › <schedule topic>", with each turn
  coded by its speaker and each topic's stretch coded by its topic, so the analysis can start
  from who said what under which question;
- each source's wave as a source variable.
Selections are character positions (Unicode code points) in the source text, as the standard
says.
"""

from __future__ import annotations

import datetime as dt
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from fieldkit.core.models import Speaker
from fieldkit.export.turns import ExportTranscript, turn_line

NAMESPACE = "urn:QDA-XML:project:1.0"
VARIABLES = ("site", "role", "wave")
SPEAKER_CODES = {Speaker.INTERVIEWER: "Interviewer", Speaker.PARTICIPANT: "Participant"}


def _guid() -> str:
    return str(uuid.uuid4())


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


@dataclass
class SourceText:
    """A transcript as plain text, with where each turn and each topic stretch sits in it."""

    text: str
    turns: list[tuple[int, int, Speaker]] = field(default_factory=list)
    topics: list[tuple[int, int, str]] = field(default_factory=list)


def source_text(transcript: ExportTranscript) -> SourceText:
    lines: list[str] = []
    position = 0
    turns: list[tuple[int, int, Speaker]] = []
    topics: list[tuple[int, int, str]] = []
    open_topic: tuple[int, str] | None = None
    for index, turn in enumerate(transcript.turns):
        title = transcript.topics.get(index)
        if title:
            if open_topic is not None:
                topics.append((open_topic[0], position - 1, open_topic[1]))
            open_topic = (position, title)
            lines.append(title)
            position += len(title) + 1
        line = turn_line(transcript, turn)
        turns.append((position, position + len(line), turn.speaker))
        lines.append(line)
        position += len(line) + 1
    if open_topic is not None:
        topics.append((open_topic[0], position - 1, open_topic[1]))
    return SourceText("\n".join(lines) + "\n", turns, topics)


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text_variable(parent: ET.Element, variable_guid: str, value: str) -> None:
    holder = ET.SubElement(parent, _tag("VariableValue"))
    ET.SubElement(holder, _tag("VariableRef"), targetGUID=variable_guid)
    ET.SubElement(holder, _tag("TextValue")).text = value


def _code(parent: ET.Element, name: str, codable: bool) -> tuple[ET.Element, str]:
    guid = _guid()
    element = ET.SubElement(
        parent, _tag("Code"), guid=guid, name=name, isCodable="true" if codable else "false"
    )
    return element, guid


def _selection(
    source: ET.Element, name: str, start: int, end: int, code_guid: str, created: str
) -> None:
    selection = ET.SubElement(
        source,
        _tag("PlainTextSelection"),
        guid=_guid(),
        name=name,
        startPosition=str(start),
        endPosition=str(end),
        creationDateTime=created,
    )
    coding = ET.SubElement(selection, _tag("Coding"), guid=_guid(), creationDateTime=created)
    ET.SubElement(coding, _tag("CodeRef"), targetGUID=code_guid)


def build_project(
    project_name: str, transcripts: Sequence[ExportTranscript]
) -> tuple[bytes, dict[str, str]]:
    """project.qde as bytes, and the source files (zip path → text)."""
    ET.register_namespace("", NAMESPACE)
    created = _now()
    project = ET.Element(
        _tag("Project"), name=project_name, origin="fieldkit", creationDateTime=created
    )
    codes = ET.SubElement(ET.SubElement(project, _tag("CodeBook")), _tag("Codes"))
    speaker_parent, _ = _code(codes, "Speaker", codable=False)
    speaker_codes = {
        speaker: _code(speaker_parent, name, codable=True)[1]
        for speaker, name in SPEAKER_CODES.items()
    }
    topic_titles = list(dict.fromkeys(t for tr in transcripts for t in tr.topics.values()))
    topic_codes: dict[str, str] = {}
    if topic_titles:
        topic_parent, _ = _code(codes, "Topic", codable=False)
        topic_codes = {title: _code(topic_parent, title, codable=True)[1] for title in topic_titles}

    variables = ET.SubElement(project, _tag("Variables"))
    variable_guids = {name: _guid() for name in VARIABLES}
    for name, guid in variable_guids.items():
        ET.SubElement(variables, _tag("Variable"), guid=guid, name=name, typeOfVariable="Text")

    source_guids = [_guid() for _ in transcripts]
    _cases(project, transcripts, source_guids, variable_guids)

    files: dict[str, str] = {}
    sources = ET.SubElement(project, _tag("Sources"))
    for transcript, guid in zip(transcripts, source_guids, strict=True):
        content = source_text(transcript)
        files[f"Sources/{guid}.txt"] = content.text
        source = ET.SubElement(
            sources,
            _tag("TextSource"),
            guid=guid,
            name=f"{transcript.participant_id} {transcript.wave}",
            plainTextPath=f"internal://{guid}.txt",
            creationDateTime=created,
        )
        for number, (start, end, speaker) in enumerate(content.turns, start=1):
            code = speaker_codes.get(speaker)
            if code:
                _selection(source, f"turn {number}", start, end, code, created)
        for start, end, title in content.topics:
            _selection(source, title, start, end, topic_codes[title], created)
        _text_variable(source, variable_guids["wave"], transcript.wave)
    ET.SubElement(project, _tag("Description")).text = (
        "Interview transcripts exported by fieldkit"
        + (" (IDENTIFIED)" if any(t.identified for t in transcripts) else " (de-identified)")
    )
    ET.indent(project)
    xml = ET.tostring(project, encoding="utf-8", xml_declaration=True)
    return xml, files


def _cases(
    project: ET.Element,
    transcripts: Sequence[ExportTranscript],
    source_guids: Sequence[str],
    variable_guids: dict[str, str],
) -> None:
    people = list(dict.fromkeys(t.participant_id for t in transcripts))
    if not people:
        return
    cases = ET.SubElement(project, _tag("Cases"))
    for person in people:
        theirs = [
            (t, g)
            for t, g in zip(transcripts, source_guids, strict=True)
            if t.participant_id == person
        ]
        first = theirs[0][0]
        case = ET.SubElement(cases, _tag("Case"), guid=_guid(), name=person)
        waves = ", ".join(dict.fromkeys(t.wave for t, _ in theirs))
        for name, value in (("site", first.site), ("role", first.role), ("wave", waves)):
            _text_variable(case, variable_guids[name], value)
        for _, guid in theirs:
            ET.SubElement(case, _tag("SourceRef"), targetGUID=guid)


def write_qdpx(project_name: str, transcripts: Sequence[ExportTranscript], path: Path) -> Path:
    xml, files = build_project(project_name, transcripts)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", xml)
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return path
