"""Read the NVivo exports back the way NVivo does and list every place that breaks its documented
layout rules (README, "Exports"). Each checker returns the broken rules as readable lines, so a
failing test says which paragraph or line is wrong and why; an empty list means the file obeys.

The rules are written out here independently of the code that writes the files: the speaker
labels a study may show are passed in (never computed by fieldkit), and times are parsed with
regular expressions, not with fieldkit's own clock helpers.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

TOPIC_STYLE = "Heading 1"
TURN_STYLE = "Normal"
CLOCK = r"(\d{2,}):([0-5]\d):([0-5]\d)"
TIMESTAMP_AFTER_LABEL = re.compile(rf"^\[{CLOCK}\] \S")
TIMESPAN = re.compile(rf"^{CLOCK}\.(\d)-{CLOCK}\.(\d)$")


def study_labels(participant_ids: Collection[str]) -> set[str]:
    """The fixed set of speaker labels a study's transcripts may show."""
    return {"Interviewer", "Unknown speaker", *participant_ids}


def seconds(hours: str, minutes: str, secs: str, tenths: str = "0") -> float:
    return int(hours) * 3600 + int(minutes) * 60 + int(secs) + int(tenths) / 10


@dataclass(frozen=True)
class DocxTurn:
    label: str
    after_label: str  # everything after "Label:"


def docx_layout(path: Path) -> list[tuple[str, str]]:
    """(style name, text) of every paragraph of a Word document."""
    import docx

    return [(p.style.name, p.text) for p in docx.Document(str(path)).paragraphs]


def speaker_of(text: str, labels: Collection[str]) -> str | None:
    """The label the paragraph starts with — the paragraph's very first characters are a label
    of the study followed by ':' — or None."""
    head, colon, _ = text.partition(":")
    return head if colon and head in labels else None


def docx_violations(path: Path, labels: Collection[str], timestamps: str = "after") -> list[str]:
    """NVivo's rules for a Word transcript: topics are Heading 1 paragraphs (auto code by
    paragraph style); every other paragraph begins with a speaker's name — nothing before it,
    not a timestamp, space or tab — then ':' and what they said (auto code by speaker); a
    timestamp, if any, comes after the name and times run forward."""
    broken: list[str] = []
    last_time = -1.0
    turns = 0
    for number, (style, text) in enumerate(docx_layout(path), start=1):
        where = f"{path.name} paragraph {number} {text[:40]!r}"
        if style == TOPIC_STYLE:
            if not text.strip():
                broken.append(f"{where}: empty heading")
            continue
        turns += 1
        if style != TURN_STYLE:
            broken.append(f"{where}: style {style!r}, expected {TURN_STYLE!r}")
        label = speaker_of(text, labels)
        if label is None:
            broken.append(f"{where}: does not begin with a speaker label and ':'")
            continue
        rest = text[len(label) + 1 :]
        if not rest.startswith(" ") or not rest.strip():
            broken.append(f"{where}: no text after the label")
            continue
        said = rest[1:]
        stamp = TIMESTAMP_AFTER_LABEL.match(said)
        if timestamps == "after":
            if stamp is None:
                broken.append(f"{where}: no [hh:mm:ss] right after the label")
                continue
            at = seconds(*stamp.groups())
            if at < last_time:
                broken.append(f"{where}: time {at} before the previous turn's {last_time}")
            last_time = at
        elif re.search(r"\[\d+:\d\d:\d\d\]", said):
            broken.append(f"{where}: a timestamp although timestamps are off")
    if turns == 0:
        broken.append(f"{path.name}: no speaker paragraphs")
    return broken


def docx_labels(path: Path, labels: Collection[str]) -> set[str]:
    return {
        label
        for style, text in docx_layout(path)
        if style != TOPIC_STYLE and (label := speaker_of(text, labels)) is not None
    }


def txt_rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in txt_lines(path)]


def txt_lines(path: Path) -> list[str]:
    text = path.read_bytes().decode("utf-8-sig")
    assert text.endswith("\r\n"), f"{path.name}: lines must end with CRLF"
    return text[:-2].split("\r\n")


def txt_violations(path: Path, labels: Collection[str]) -> list[str]:
    """NVivo's rules for a tab-delimited transcript (Import transcript rows): every line holds
    the same number of tabs; columns timespan, content, speaker; a valid timespan
    hh:mm:ss.s-hh:mm:ss.s that does not end before it starts; rows in chronological order."""
    broken: list[str] = []
    lines = txt_lines(path)
    tab_counts = {line.count("\t") for line in lines}
    if tab_counts != {2}:
        broken.append(f"{path.name}: tabs per line {sorted(tab_counts)}, expected 2 on every line")
    last_start = -1.0
    for number, line in enumerate(lines, start=1):
        where = f"{path.name} line {number} {line[:50]!r}"
        fields = line.split("\t")
        if len(fields) != 3:
            continue
        span, content, speaker = fields
        match = TIMESPAN.match(span)
        if match is None:
            broken.append(f"{where}: {span!r} is not a timespan hh:mm:ss.s-hh:mm:ss.s")
        else:
            start, end = seconds(*match.groups()[:4]), seconds(*match.groups()[4:])
            if end <= start:
                broken.append(f"{where}: timespan ends at or before its start")
            if start < last_start:
                broken.append(f"{where}: starts before the previous row")
            last_start = start
        if not content.strip() or content != content.strip():
            broken.append(f"{where}: content empty or padded")
        if speaker not in labels:
            broken.append(f"{where}: speaker {speaker!r} is not one of the study's labels")
    return broken
