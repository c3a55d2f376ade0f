"""NVivo exports, each laid out as NVivo's help documents it (README, "Exports", cites the pages).

- nvivo-docx: one Word document per transcript, imported as a document. Each turn is a Normal
  paragraph that begins with the speaker's label and a colon — nothing before it, since NVivo's
  auto code by speaker reads the name at the very start of a paragraph and makes one case per
  distinct name — then the start time "[hh:mm:ss]" (or no time, `timestamps="none"`) and the
  text. The schedule's topics (from the question markers) are Heading 1 paragraphs, so auto code
  by paragraph style makes a code per topic.
- nvivo-txt: one text file per transcript for NVivo's media transcript import ("Import
  transcript rows"): tab-delimited, every line with the same number of tabs, one row per turn
  in time order: `timespan<TAB>content<TAB>speaker`, the columns of an NVivo transcript, the
  timespan as "hh:mm:ss.s-hh:mm:ss.s" (NVivo keeps tenths of a second). Map the third column to
  a Speaker field and auto code by it.
"""

from __future__ import annotations

from pathlib import Path

from fieldkit.export.turns import ExportTranscript, Timestamps, clock_tenths, turn_line
from fieldkit.private import open_private, write_private_text

GENERATOR = "fieldkit"
TOPIC_STYLE = "Heading 1"


def write_docx(transcript: ExportTranscript, path: Path, timestamps: Timestamps = "after") -> Path:
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
            document.add_paragraph(title, style=TOPIC_STYLE)
        label = transcript.label(turn)
        paragraph = document.add_paragraph()
        # The label in bold reads well; NVivo only looks at the characters, which stay
        # "Label: …" from the first one.
        paragraph.add_run(f"{label}:").bold = True
        paragraph.add_run(turn_line(transcript, turn, timestamps)[len(label) + 1 :])
    with open_private(path, "wb") as out:
        document.save(out)
    return path


def timespan(start: float, end: float) -> str:
    """NVivo's "hh:mm:ss.s-hh:mm:ss.s". A turn shorter than a tenth of a second still ends a
    tenth after it starts, so no timespan is empty once rounded."""
    first = round(max(0.0, start), 1)
    last = max(round(end, 1), round(first + 0.1, 1))
    return f"{clock_tenths(first)}-{clock_tenths(last)}"


def nvivo_rows(transcript: ExportTranscript) -> list[str]:
    """One row per turn; turns come in order of their start, so the rows are chronological."""
    rows = []
    for turn in transcript.turns:
        content = " ".join(turn.text.split())  # no tab or line break may split a row
        rows.append(f"{timespan(turn.start, turn.end)}\t{content}\t{transcript.label(turn)}")
    return rows


def write_txt(transcript: ExportTranscript, path: Path) -> Path:
    # UTF-8 with a byte-order mark: NVivo on Windows then reads non-ASCII text correctly.
    text = "\r\n".join(nvivo_rows(transcript)) + "\r\n"
    write_private_text(path, text, encoding="utf-8-sig", newline="")  # CRLF on any system
    return path
