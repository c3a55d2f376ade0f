"""REFI-QDA project export (.qdpx), which ATLAS.ti, MAXQDA, NVivo and other QDA programs open.

A .qdpx is a zip holding `project.qde` (QDA-XML, namespace urn:QDA-XML:project:1.0) and
`Sources/<guid>.txt`, one plain-text source per transcript. The project carries:
- the acting user (`<Users>`), who made the codebook (the project's creatingUserGUID), the
  sources, selections and codings (their creatingUser) — importers otherwise file them under a
  made-up "default" coder;
- a case per participant with the variables site, role and wave (waves joined when several);
- codes "Speaker › Interviewer / Participant" and "Topic › <schedule topic>", each with its own
  colour, with each turn coded by its speaker and each topic's stretch coded by its topic, so the
  analysis can start from who said what under which question;
- each source's wave as the source variable "interview wave". A variable describes cases or
  sources, never both: QualCoder keeps one kind per variable name and hid the other.
Each line of a source is a turn written label first ("Interviewer: [00:01:02] …"), like the Word
export. Selections are character positions (Unicode code points) in the source text, as the
standard says.
"""

from __future__ import annotations

import colorsys
import datetime as dt
import uuid
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

from fieldkit.core.models import Speaker
from fieldkit.export.turns import ExportTranscript, Timestamps, turn_line
from fieldkit.private import open_private

NAMESPACE = "urn:QDA-XML:project:1.0"
CASE_VARIABLES = ("site", "role", "wave")
SOURCE_WAVE = "interview wave"  # not "wave": that name already describes the cases
SPEAKER_CODES = {Speaker.INTERVIEWER: "Interviewer", Speaker.PARTICIPANT: "Participant"}
SPEAKER_COLOURS = {Speaker.INTERVIEWER: "#3E6FB0", Speaker.PARTICIPANT: "#E07B24"}
GROUP_COLOUR = "#8C8C8C"  # the non-codable parents "Speaker" and "Topic"
TOPIC_COLOURS = ("#3A9E5C", "#C8463D", "#8A5BB5", "#D1A81F", "#2B9BA6", "#B5527E", "#7A6A3A")
# A stable GUID per user name, so every export by one person names the same coder.
USER_NAMESPACE = uuid.UUID("6f1d3c8e-0f4b-4c52-9a57-2f7a1c0d9e41")


def _guid() -> str:
    return str(uuid.uuid4())


def user_guid(name: str) -> str:
    return str(uuid.uuid5(USER_NAMESPACE, name))


def topic_colours(count: int) -> list[str]:
    """A colour per topic code, none repeated (the fixed ones first, then hues spread by the
    golden angle), none shared with the speaker codes."""
    taken = {*SPEAKER_COLOURS.values(), GROUP_COLOUR}
    colours = [c for c in TOPIC_COLOURS if c not in taken][:count]
    step = 0
    while len(colours) < count:
        hue = (0.11 + step * 0.618033988749895) % 1.0
        step += 1
        red, green, blue = colorsys.hsv_to_rgb(hue, 0.6, 0.78)
        colour = f"#{round(red * 255):02X}{round(green * 255):02X}{round(blue * 255):02X}"
        if colour not in taken and colour not in colours:
            colours.append(colour)
    return colours


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


@dataclass
class SourceText:
    """A transcript as plain text, with where each turn and each topic stretch sits in it."""

    text: str
    turns: list[tuple[int, int, Speaker]] = field(default_factory=list)
    topics: list[tuple[int, int, str]] = field(default_factory=list)


def source_text(transcript: ExportTranscript, timestamps: Timestamps = "after") -> SourceText:
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
        line = turn_line(transcript, turn, timestamps)
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


def _code(parent: ET.Element, name: str, codable: bool, colour: str) -> tuple[ET.Element, str]:
    guid = _guid()
    element = ET.SubElement(
        parent,
        _tag("Code"),
        guid=guid,
        name=name,
        isCodable="true" if codable else "false",
        color=colour,
    )
    return element, guid


@dataclass(frozen=True)
class Stamp:
    """Who made an element and when: every source, selection and coding carries it."""

    user: str  # the user's GUID
    at: str

    def attributes(self) -> dict[str, str]:
        return {"creatingUser": self.user, "creationDateTime": self.at}


def _selection(
    source: ET.Element, name: str, start: int, end: int, code_guid: str, stamp: Stamp
) -> None:
    selection = ET.SubElement(
        source,
        _tag("PlainTextSelection"),
        {
            "guid": _guid(),
            "name": name,
            "startPosition": str(start),
            "endPosition": str(end),
            **stamp.attributes(),
        },
    )
    coding = ET.SubElement(selection, _tag("Coding"), {"guid": _guid(), **stamp.attributes()})
    ET.SubElement(coding, _tag("CodeRef"), targetGUID=code_guid)


def build_project(
    project_name: str,
    transcripts: Sequence[ExportTranscript],
    user: str,
    timestamps: Timestamps = "after",
) -> tuple[bytes, dict[str, str]]:
    """project.qde as bytes, and the source files (zip path → text). `user` is the acting
    user's name (the study's actor)."""
    ET.register_namespace("", NAMESPACE)
    stamp = Stamp(user_guid(user), _now())
    project = ET.Element(
        _tag("Project"),
        name=project_name,
        origin="fieldkit",
        creatingUserGUID=stamp.user,
        creationDateTime=stamp.at,
    )
    users = ET.SubElement(project, _tag("Users"))
    ET.SubElement(users, _tag("User"), guid=stamp.user, name=user)
    codes = ET.SubElement(ET.SubElement(project, _tag("CodeBook")), _tag("Codes"))
    speaker_parent, _ = _code(codes, "Speaker", codable=False, colour=GROUP_COLOUR)
    speaker_codes = {
        speaker: _code(speaker_parent, name, codable=True, colour=SPEAKER_COLOURS[speaker])[1]
        for speaker, name in SPEAKER_CODES.items()
    }
    topic_titles = list(dict.fromkeys(t for tr in transcripts for t in tr.topics.values()))
    topic_codes: dict[str, str] = {}
    if topic_titles:
        topic_parent, _ = _code(codes, "Topic", codable=False, colour=GROUP_COLOUR)
        topic_codes = {
            title: _code(topic_parent, title, codable=True, colour=colour)[1]
            for title, colour in zip(topic_titles, topic_colours(len(topic_titles)), strict=True)
        }

    variables = ET.SubElement(project, _tag("Variables"))
    variable_guids = {name: _guid() for name in (*CASE_VARIABLES, SOURCE_WAVE)}
    for name, guid in variable_guids.items():
        ET.SubElement(variables, _tag("Variable"), guid=guid, name=name, typeOfVariable="Text")

    source_guids = [_guid() for _ in transcripts]
    _cases(project, transcripts, source_guids, variable_guids)

    files: dict[str, str] = {}
    sources = ET.SubElement(project, _tag("Sources"))
    for transcript, guid in zip(transcripts, source_guids, strict=True):
        content = source_text(transcript, timestamps)
        files[f"Sources/{guid}.txt"] = content.text
        source = ET.SubElement(
            sources,
            _tag("TextSource"),
            {
                "guid": guid,
                # The participant's ID first: the case it belongs to, for importers that do
                # not read the case's SourceRef (README, "Exports").
                "name": f"{transcript.participant_id} {transcript.wave}",
                "plainTextPath": f"internal://{guid}.txt",
                **stamp.attributes(),
            },
        )
        for number, (start, end, speaker) in enumerate(content.turns, start=1):
            code = speaker_codes.get(speaker)
            if code:
                _selection(source, f"turn {number}", start, end, code, stamp)
        for start, end, title in content.topics:
            _selection(source, title, start, end, topic_codes[title], stamp)
        _text_variable(source, variable_guids[SOURCE_WAVE], transcript.wave)
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


def write_qdpx(
    project_name: str,
    transcripts: Sequence[ExportTranscript],
    path: Path,
    user: str,
    timestamps: Timestamps = "after",
) -> Path:
    xml, files = build_project(project_name, transcripts, user, timestamps)
    with (
        open_private(path, "wb") as out,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        archive.writestr("project.qde", xml)
        for name, text in files.items():
            archive.writestr(name, text.encode("utf-8"))
    return path
