"""What every export format shares: a transcript as speaker turns, with topic headings placed
from the interview's question markers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from fieldkit.core.models import Segment, Speaker

INTERVIEWER_LABEL = "Interviewer"
UNKNOWN_LABEL = "Speaker"


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: Speaker
    label: str  # what the export shows: the participant's ID, "Interviewer" or "Speaker"
    text: str


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


def clock(seconds: float) -> str:
    """hh:mm:ss."""
    total = max(0, int(seconds))
    return f"{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}"


def clock_tenths(seconds: float) -> str:
    """hh:mm:ss.s (NVivo's timespans)."""
    tenths = max(0, round(seconds * 10))
    whole, tenth = divmod(tenths, 10)
    return f"{clock(whole)}.{tenth}"


def label_for(speaker: Speaker, participant_id: str) -> str:
    if speaker is Speaker.PARTICIPANT:
        return participant_id
    if speaker is Speaker.INTERVIEWER:
        return INTERVIEWER_LABEL
    return UNKNOWN_LABEL


def build_turns(segments: Sequence[Segment], participant_id: str) -> list[Turn]:
    """Consecutive segments of one speaker read as one turn."""
    turns: list[Turn] = []
    for segment in sorted(segments, key=lambda s: s.start):
        text = " ".join(segment.text.split())
        if not text:
            continue
        if turns and turns[-1].speaker is segment.speaker:
            last = turns[-1]
            turns[-1] = Turn(
                last.start, segment.end, last.speaker, last.label, f"{last.text} {text}"
            )
        else:
            label = label_for(segment.speaker, participant_id)
            turns.append(Turn(segment.start, segment.end, segment.speaker, label, text))
    return turns


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


def turn_line(turn: Turn) -> str:
    """One paragraph: "[hh:mm:ss] Label: text"."""
    return f"[{clock(turn.start)}] {turn.label}: {turn.text}"
