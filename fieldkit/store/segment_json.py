"""Segments as compact JSON, for the tables that keep work in progress (transcript parts, review
drafts): a word is a list [start, end, word, probability, speaker] rather than an object, since a
long interview has tens of thousands of them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from fieldkit.core.models import Segment, Speaker, Word


def dump_segments(segments: Iterable[Segment]) -> str:
    return json.dumps([_segment_json(segment) for segment in segments])


def load_segments(text: str) -> list[Segment]:
    return [_segment(data) for data in json.loads(text)]


def _segment_json(segment: Segment) -> dict[str, Any]:
    return {
        "start": segment.start,
        "end": segment.end,
        "speaker": segment.speaker.value,
        "text": segment.text,
        "words": [[w.start, w.end, w.word, w.probability, w.speaker.value] for w in segment.words],
    }


def _segment(data: dict[str, Any]) -> Segment:
    words = tuple(
        Word(start, end, word, probability, Speaker(speaker))
        for start, end, word, probability, speaker in data["words"]
    )
    return Segment(data["start"], data["end"], Speaker(data["speaker"]), data["text"], words)
