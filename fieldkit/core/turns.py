"""Speaker turns, and the one way a speaker is labelled wherever a transcript is shown.

The audit, the participant's copy, the exports and `fieldkit transcript show` all read a
transcript as turns built here, so they agree on where a turn starts and what it is called.

Decisions:
- Segments are taken in order of their start (a stable sort: ties keep their order).
- Consecutive segments with the same speaker label make one turn. The segment's own label
  decides (what the reviewer sees and sets), not a guess from its words.
- A segment with no text (only whitespace) neither starts nor breaks a turn; it still belongs
  to one (the turn in progress, or the first turn when it comes before any text), so code that
  rewrites a turn's segments (a returned participant's copy) keeps every segment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from fieldkit.core.models import Segment, Speaker, Turn

INTERVIEWER_LABEL = "Interviewer"
UNKNOWN_LABEL = "Unknown speaker"


def speaker_label(speaker: Speaker, participant_id: str) -> str:
    """What a reader sees for a speaker: the participant's ID, "Interviewer", or
    "Unknown speaker" (a mono recording, or a turn nobody has attributed yet)."""
    if speaker is Speaker.PARTICIPANT:
        return participant_id
    if speaker is Speaker.INTERVIEWER:
        return INTERVIEWER_LABEL
    return UNKNOWN_LABEL


def speaker_labels(participant_id: str) -> tuple[str, ...]:
    """Every label a transcript of this participant can show."""
    return tuple(speaker_label(s, participant_id) for s in Speaker)


def build_turns(segments: Sequence[Segment]) -> list[Turn]:
    """The transcript as speaker turns (see the module's decisions)."""
    turns: list[Turn] = []
    leading_blanks: list[int] = []
    for index in sorted(range(len(segments)), key=lambda i: segments[i].start):
        segment = segments[index]
        text = " ".join(segment.text.split())
        if not text:
            if turns:
                turns[-1] = replace(turns[-1], segments=(*turns[-1].segments, index))
            else:
                leading_blanks.append(index)
        elif turns and turns[-1].speaker is segment.speaker:
            last = turns[-1]
            turns[-1] = replace(
                last,
                end=max(last.end, segment.end),
                text=f"{last.text} {text}",
                segments=(*last.segments, index),
            )
        else:
            owned = (*leading_blanks, index)
            leading_blanks = []
            turns.append(Turn(segment.start, segment.end, segment.speaker, text, owned))
    return turns
