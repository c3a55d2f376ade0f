"""NVivo exports.

- nvivo-docx: one Word document per transcript. Each paragraph is a speaker turn,
  "[hh:mm:ss] Label: text"; the schedule's topics (from the question markers) are Heading 1
  paragraphs, so NVivo's auto code by paragraph style makes a code per topic.
- nvivo-txt: one text file per transcript for NVivo's media transcript import (Import transcript
  rows): one row per turn, `timespan<TAB>speaker<TAB>content`, the timespan as
  "hh:mm:ss.s - hh:mm:ss.s". A Speaker column lets NVivo auto code by speaker.
"""

from __future__ import annotations

from pathlib import Path

from fieldkit.export.turns import ExportTranscript, clock_tenths, turn_line

GENERATOR = "fieldkit"


def write_docx(transcript: ExportTranscript, path: Path) -> Path:
    import docx  # python-docx: loaded only when a Word document is written

    document = docx.Document()
    properties = document.core_properties
    # python-docx's template carries its own author and dates; set neutral ones.
    properties.author = GENERATOR
    properties.last_modified_by = GENERATOR
    properties.title = f"{transcript.participant_id} {transcript.wave}"
    properties.comments = (
        "identified transcript" if transcript.identified else "de-identified transcript"
    )
    for index, turn in enumerate(transcript.turns):
        title = transcript.topics.get(index)
        if title:
            document.add_heading(title, level=1)
        document.add_paragraph(turn_line(transcript, turn))
    document.save(str(path))
    return path


def nvivo_rows(transcript: ExportTranscript) -> list[str]:
    rows = []
    for turn in transcript.turns:
        span = f"{clock_tenths(turn.start)} - {clock_tenths(turn.end)}"
        content = turn.text.replace("\t", " ")
        rows.append(f"{span}\t{transcript.label(turn)}\t{content}")
    return rows


def write_txt(transcript: ExportTranscript, path: Path) -> Path:
    # UTF-8 with a byte-order mark: NVivo on Windows then reads non-ASCII text correctly.
    path.write_text("\r\n".join(nvivo_rows(transcript)) + "\r\n", encoding="utf-8-sig")
    return path
