"""What every export format shares: a transcript as speaker turns (fieldkit.core.turns builds
them and names their speakers), with topic headings placed from the interview's question
markers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from fieldkit.core.models import Speaker, Turn
from fieldkit.core.turns import speaker_label

# Where a turn's start time goes in the Word and REFI-QDA text: after the speaker's label (never
# before it: NVivo's auto code by speaker needs the label first), or nowhere.
Timestamps = Literal["after", "none"]
TIMESTAMP_PLACEMENTS: tuple[Timestamps, ...] = ("after", "none")


@dataclass(frozen=True)
class ExportTranscript:
    participant_id: str
    wave: str
    site: str
    role: str
    revision: int
    identified: bool
    duration_s: float | None
    turns: list[Turn]
    topics: dict[int, str] = field(default_factory=dict)  # turn index → topic title before it

    @property
    def name(self) -> str:
        """The file name stem; identified exports say so in every file name."""
        stem = f"{self.participant_id}_{self.wave}".replace(" ", "-")
        return f"{stem}_IDENTIFIED" if self.identified else stem

    def label(self, turn: Turn) -> str:
        """The turn's speaker as every export shows it (fieldkit.core.turns.speaker_label)."""
        return speaker_label(turn.speaker, self.participant_id)


def clock(seconds: float) -> str:
    """hh:mm:ss."""
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def clock_tenths(seconds: float) -> str:
    """hh:mm:ss.s (NVivo's timespans)."""
    tenths = max(0, round(seconds * 10))
    whole, tenth = divmod(tenths, 10)
    return f"{clock(whole)}.{tenth}"


def place_topics(turns: Sequence[Turn], markers: Sequence[tuple[float, str]]) -> dict[int, str]:
    """Each question marker (time, topic title) becomes a heading before the turn in progress
    when it was pressed if that turn is the interviewer's (asking), else before the next turn.
    A heading is only written where the topic changes."""
    placed: dict[int, str] = {}
    current: str | None = None
    for at, title in sorted(markers, key=lambda m: m[0]):
        if title == current:
            continue
        index = _turn_for(turns, at)
        if index is None:
            continue
        placed[index] = title  # a later marker on the same turn wins: it is the one asked
        current = title
    return _without_repeats(placed)


def _turn_for(turns: Sequence[Turn], at: float) -> int | None:
    for index, turn in enumerate(turns):
        if turn.end <= at:
            continue
        if turn.start <= at and turn.speaker is not Speaker.INTERVIEWER:
            return index + 1 if index + 1 < len(turns) else None
        return index
    return None


def _without_repeats(placed: Mapping[int, str]) -> dict[int, str]:
    result: dict[int, str] = {}
    previous: str | None = None
    for index in sorted(placed):
        if placed[index] != previous:
            result[index] = placed[index]
        previous = placed[index]
    return result


def turn_line(transcript: ExportTranscript, turn: Turn, timestamps: Timestamps = "after") -> str:
    """One paragraph: "Label: [hh:mm:ss] text", or "Label: text" without timestamps. The label
    is the very first thing, so NVivo (and QualCoder's speaker marking) can read who speaks."""
    time = f"[{clock(turn.start)}] " if timestamps == "after" else ""
    return f"{transcript.label(turn)}: {time}{turn.text}"
