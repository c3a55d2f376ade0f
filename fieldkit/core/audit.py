"""The guarded-term audit: apply the rule to a finished transcript.

For each guarded term: who used it first and when; every interviewer use before the participant
raised it (a breach), with its time and the words around it; whether the follow-up probe was asked
after the raise; and how the guard events recorded live compare.

Decisions (documented in the README):
- A use is timed by the word that carries it when the segment has word timings, else by the
  segment start.
- "Raised" means the first use by the participant. A breach is an interviewer use before the
  participant raised the term *and* before any use whose speaker is unknown — an unlabelled use
  might have been the participant's, and the audit never claims a breach it cannot show.
- The follow-up counts as asked when, after the raise, an interviewer turn (consecutive interviewer
  segments read together) asks a question that says the term and asks about it: with a cue
  ("mean", "tell me more", "what is" …) or close to the schedule's follow-up text
  (`fieldkit.core.guard.looks_like_follow_up`, the rule the live guard uses too).
- Mono transcripts (no speaker labels): uses are listed, nothing is attributed, no breaches claimed.
- Live and transcript times of the raise "agree" when within `AGREE_SECONDS` (live chunks and
  key presses lag the words by a few seconds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from fieldkit.core.guard import (
    GuardEvent,
    GuardEventKind,
    TermMatcher,
    context_around,
    format_clock,
    looks_like_follow_up,
)
from fieldkit.core.models import GuardedTerm, Segment, Speaker
from fieldkit.core.turns import build_turns
from fieldkit.core.wording import counted

AGREE_SECONDS = 15.0


@dataclass(frozen=True)
class Violation:
    at: float
    speaker: str
    context: str  # the words around the use (~6 either side)


@dataclass(frozen=True)
class TermUse:
    at: float
    speaker: str  # "interviewer" | "participant" | "unknown"
    form: str
    context: str


@dataclass(frozen=True)
class LiveComparison:
    """How the guard events recorded during the interview compare with the transcript."""

    status: str  # "agree" | "differ" | "no live events" | "cannot compare"
    summary: str
    live_raised_at: float | None = None
    live_raised_source: str | None = None  # "live" | "manual"
    live_breaches: int = 0
    live_followed_up: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "summary": self.summary,
            "live_raised_at": _round(self.live_raised_at),
            "live_raised_source": self.live_raised_source,
            "live_breaches": self.live_breaches,
            "live_followed_up": self.live_followed_up,
        }


@dataclass(frozen=True)
class TermAudit:
    term: str
    first_used_by: str | None  # "participant" | "interviewer" | None (never used, or unlabelled)
    first_used_at: float | None
    violations: tuple[Violation, ...]
    follow_up_asked: bool
    uses: tuple[TermUse, ...] = ()
    live: LiveComparison | None = None
    attributable: bool = True
    raised_at: float | None = None  # the participant's first use
    follow_up_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "first_used_by": self.first_used_by,
            "first_used_at": _round(self.first_used_at),
            "violations": [
                {"at": _round(v.at), "speaker": v.speaker, "context": v.context}
                for v in self.violations
            ],
            "follow_up_asked": self.follow_up_asked,
            "raised_at": _round(self.raised_at),
            "follow_up_at": _round(self.follow_up_at),
            "attributable": self.attributable,
            "uses": [
                {"at": _round(u.at), "speaker": u.speaker, "form": u.form, "context": u.context}
                for u in self.uses
            ],
            "live": self.live.to_json() if self.live else None,
        }


@dataclass(frozen=True)
class AuditReport:
    terms: tuple[TermAudit, ...]
    speakers_known: bool
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "terms": [t.to_json() for t in self.terms],
            "speakers_known": self.speakers_known,
            "notes": list(self.notes),
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _speaker_of(segment: Segment) -> Speaker:
    if segment.speaker is not Speaker.UNKNOWN:
        return segment.speaker
    labels = {w.speaker for w in segment.words} - {Speaker.UNKNOWN}
    return labels.pop() if len(labels) == 1 else Speaker.UNKNOWN


def _word_times(segment: Segment, matcher: TermMatcher, term: str) -> list[float]:
    """Start time of each use of `term`, found in the segment's words (in order)."""
    if not segment.words:
        return []
    pieces: list[str] = []
    offsets: list[tuple[int, float]] = []  # (offset of the word in the joined text, its start)
    position = 0
    for word in segment.words:
        token = word.word.strip()
        offsets.append((position, word.start))
        pieces.append(token)
        position += len(token) + 1
    joined = " ".join(pieces)
    times: list[float] = []
    for match in matcher.find(joined):
        if match.term != term:
            continue
        start = max((t for offset, t in offsets if offset <= match.start), default=segment.start)
        times.append(start)
    return times


def _uses(segments: Sequence[Segment], matcher: TermMatcher, term: str) -> list[TermUse]:
    uses: list[TermUse] = []
    for segment in segments:
        matches = [m for m in matcher.find(segment.text) if m.term == term]
        if not matches:
            continue
        times = _word_times(segment, matcher, term)
        speaker = _speaker_of(segment).value
        for index, match in enumerate(matches):
            at = times[index] if index < len(times) else segment.start
            context = context_around(segment.text, match.start, match.end)
            uses.append(TermUse(at=at, speaker=speaker, form=match.form, context=context))
    return sorted(uses, key=lambda u: u.at)


def _interviewer_turns(segments: Sequence[Segment]) -> list[tuple[float, str]]:
    """The interviewer's turns (fieldkit.core.turns): (start, text)."""
    return [(t.start, t.text) for t in build_turns(segments) if t.speaker is Speaker.INTERVIEWER]


def _follow_up_at(
    segments: Sequence[Segment], guarded: GuardedTerm, matcher: TermMatcher, raised_at: float
) -> float | None:
    for start, text in _interviewer_turns(segments):
        if start >= raised_at and looks_like_follow_up(text, guarded, matcher):
            return start
    return None


def _audit_term(
    guarded: GuardedTerm,
    segments: Sequence[Segment],
    matcher: TermMatcher,
    live_events: Sequence[GuardEvent],
) -> TermAudit:
    term = guarded.term
    uses = _uses(segments, matcher, term)
    attributable = all(u.speaker != Speaker.UNKNOWN for u in uses)
    first = uses[0] if uses else None
    first_by = first.speaker if first and first.speaker != Speaker.UNKNOWN else None
    raised_at = next((u.at for u in uses if u.speaker == Speaker.PARTICIPANT), None)
    # Breaches only before the first use that might be the participant's (labelled or not).
    cut_off = next((u.at for u in uses if u.speaker != Speaker.INTERVIEWER), float("inf"))
    violations = tuple(
        Violation(at=u.at, speaker=u.speaker, context=u.context)
        for u in uses
        if u.speaker == Speaker.INTERVIEWER and u.at < cut_off
    )
    follow_up_at = (
        _follow_up_at(segments, guarded, matcher, raised_at) if raised_at is not None else None
    )
    audit = TermAudit(
        term=term,
        first_used_by=first_by,
        first_used_at=first.at if first else None,
        violations=violations,
        follow_up_asked=follow_up_at is not None,
        uses=tuple(uses),
        attributable=attributable,
        raised_at=raised_at,
        follow_up_at=follow_up_at,
    )
    return _with_live(audit, [e for e in live_events if e.term == term], bool(live_events))


def _with_live(audit: TermAudit, events: Sequence[GuardEvent], any_live: bool) -> TermAudit:
    if not any_live:
        comparison = LiveComparison("no live events", "no guard events were recorded live")
        return _replace_live(audit, comparison)
    raise_event = next((e for e in events if e.kind is GuardEventKind.RAISED), None)
    live_raised_at = raise_event.at if raise_event else None
    live_breaches = sum(1 for e in events if e.kind is GuardEventKind.BREACH)
    live_followed = any(e.kind is GuardEventKind.FOLLOWED_UP for e in events)
    parts = [_compare_raise(audit, raise_event)]
    if live_breaches or audit.violations:
        parts.append(
            f"live warned of {counted(live_breaches, 'interviewer use')} before the raise; "
            f"the transcript shows {len(audit.violations)}"
        )
    if live_followed != audit.follow_up_asked:
        live_word = "marked" if live_followed else "did not mark"
        text_word = "shows" if audit.follow_up_asked else "does not show"
        parts.append(f"live {live_word} the follow-up; the transcript {text_word} it asked")
    agree = (
        _raise_agrees(audit.raised_at, live_raised_at)
        and live_breaches == len(audit.violations)
        and live_followed == audit.follow_up_asked
    )
    status = "agree" if agree else "differ"
    if not audit.attributable:
        status = "cannot compare"
    comparison = LiveComparison(
        status=status,
        summary="; ".join(parts),
        live_raised_at=live_raised_at,
        live_raised_source=raise_event.source if raise_event else None,
        live_breaches=live_breaches,
        live_followed_up=live_followed,
    )
    return _replace_live(audit, comparison)


def _raise_agrees(transcript_at: float | None, live_at: float | None) -> bool:
    if transcript_at is None or live_at is None:
        return transcript_at is None and live_at is None
    return abs(transcript_at - live_at) <= AGREE_SECONDS


def _compare_raise(audit: TermAudit, raise_event: GuardEvent | None) -> str:
    transcript_at = audit.raised_at
    if raise_event is None and transcript_at is None:
        return "neither the live guard nor the transcript shows it raised by the participant"
    if raise_event is None:
        return (
            f"the live guard did not mark it raised; the transcript shows the participant "
            f"raising it at {format_clock(transcript_at or 0.0)}"
        )
    live_text = f"live marked it raised at {format_clock(raise_event.at)} ({raise_event.source})"
    if transcript_at is None:
        return f"{live_text}, but the transcript has no use by the participant"
    delta = raise_event.at - transcript_at
    return f"{live_text}; the transcript shows {format_clock(transcript_at)} ({delta:+.0f} s)"


def _replace_live(audit: TermAudit, comparison: LiveComparison) -> TermAudit:
    return replace(audit, live=comparison)


def _notes(audits: Sequence[TermAudit], speakers_known: bool) -> list[str]:
    if not speakers_known:
        return [
            "the transcript has no speaker labels (mono recording): uses of guarded terms are "
            "listed but cannot be attributed to the interviewer or the participant, so no "
            "breaches are claimed and the follow-up cannot be checked"
        ]
    notes: list[str] = []
    for audit in audits:
        unlabelled = sum(1 for u in audit.uses if u.speaker == Speaker.UNKNOWN)
        if unlabelled:
            notes.append(
                f"{counted(unlabelled, 'use')} of '{audit.term}' "
                f"{'has' if unlabelled == 1 else 'have'} no speaker label; breaches are only "
                "claimed for interviewer uses before any participant or unlabelled use"
            )
    return notes


def audit_transcript(
    terms: Sequence[GuardedTerm],
    segments: Sequence[Segment],
    live_events: Sequence[GuardEvent] = (),
) -> AuditReport:
    """Audit a transcript (segments in any order) against the guarded-term rule."""
    matcher = TermMatcher(terms)
    ordered = sorted(segments, key=lambda s: s.start)
    speakers_known = any(_speaker_of(s) is not Speaker.UNKNOWN for s in ordered)
    audits = tuple(_audit_term(t, ordered, matcher, live_events) for t in terms)
    return AuditReport(
        terms=audits, speakers_known=speakers_known, notes=tuple(_notes(audits, speakers_known))
    )
