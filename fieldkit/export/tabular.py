"""csv and json of speaker turns with times, one file for all exported transcripts (ready for R,
pandas or a spreadsheet)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fieldkit.export.turns import ExportTranscript, clock
from fieldkit.private import open_private, write_private_text

CSV_COLUMNS = (
    "participant",
    "site",
    "role",
    "wave",
    "revision",
    "turn",
    "topic",
    "start_s",
    "end_s",
    "start",
    "speaker",
    "label",
    "text",
)


def turn_records(transcript: ExportTranscript) -> list[dict[str, Any]]:
    records = []
    topic = ""
    for index, turn in enumerate(transcript.turns):
        topic = transcript.topics.get(index, topic)
        records.append(
            {
                "participant": transcript.participant_id,
                "site": transcript.site,
                "role": transcript.role,
                "wave": transcript.wave,
                "revision": transcript.revision,
                "turn": index + 1,
                "topic": topic,
                "start_s": round(turn.start, 2),
                "end_s": round(turn.end, 2),
                "start": clock(turn.start),
                "speaker": turn.speaker.value,
                "label": transcript.label(turn),
                "text": turn.text,
            }
        )
    return records


def file_stem(transcripts: Sequence[ExportTranscript]) -> str:
    identified = any(t.identified for t in transcripts)
    return "turns_IDENTIFIED" if identified else "turns"


def write_csv(transcripts: Sequence[ExportTranscript], path: Path) -> Path:
    with open_private(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for transcript in transcripts:
            writer.writerows(turn_records(transcript))
    return path


def write_json(transcripts: Sequence[ExportTranscript], path: Path) -> Path:
    data = [
        {
            "participant": t.participant_id,
            "site": t.site,
            "role": t.role,
            "wave": t.wave,
            "revision": t.revision,
            "deidentified": not t.identified,
            "duration_s": t.duration_s,
            "turns": [
                {k: v for k, v in r.items() if k not in ("participant", "site", "role", "wave")}
                for r in turn_records(t)
            ],
        }
        for t in transcripts
    ]
    write_private_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    return path
