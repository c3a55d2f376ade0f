"""The study report and the term search: facts gathered from the study, figures from the core."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fieldkit.core.audit import audit_transcript
from fieldkit.core.models import InterviewStatus, Participant
from fieldkit.core.report import (
    InterviewFacts,
    ParticipantFacts,
    StudyReport,
    TermFacts,
    build_report,
    is_withdrawn,
)
from fieldkit.core.workflow import TranscriptState
from fieldkit.errors import FieldkitError
from fieldkit.services.deid import approval_state_of, approval_states_seen
from fieldkit.services.interviews import guard_events
from fieldkit.services.study import Study
from fieldkit.store.deid_repo import TranscriptSearch
from fieldkit.store.repo import Events, InterviewRow, Interviews, Participants, Transcripts

DONE = (InterviewStatus.ENDED, InterviewStatus.INTERRUPTED)


def study_report(study: Study) -> StudyReport:
    participants = Participants(study.db).all()
    people = {p.id: p for p in participants}
    interviews = Interviews(study.db).all()
    facts = [_interview_facts(study, i, people[i.participant_id]) for i in interviews]
    config = study.config
    counted = [row for row, fact in zip(interviews, facts, strict=True) if _counted(fact, people)]
    return build_report(
        title=config.title,
        participants=[ParticipantFacts(p.id, p.site, p.role, p.status.value) for p in participants],
        interviews=facts,
        term_facts=_term_facts(study, counted),
        sites=config.sites,
        roles=config.roles,
        waves=config.waves,
        role_labels=config.role_labels,
        interviewers=_interviewers(study),
    )


def _interviewers(study: Study) -> tuple[str, ...]:
    """`[study] interviewers` in study.toml: the names the methods paragraph gives (never the
    computer's login, which is what the interview rows record)."""
    return study.config.interviewers


def _counted(fact: InterviewFacts, people: dict[str, Participant]) -> bool:
    """In the report's figures: audio-recorded and not withdrawn (fieldkit.core.report)."""
    person = people.get(fact.participant_id)
    consent = person.status.value if person else None
    return fact.has_audio and not is_withdrawn(consent, fact.state)


def _interview_facts(
    study: Study, interview: InterviewRow, participant: Participant
) -> InterviewFacts:
    revisions = Transcripts(study.db).for_interview(interview.id)
    # A withdrawal that deleted the transcript keeps the interview's approval state and moves.
    seen = approval_states_seen(study, interview.id) - {TranscriptState.TRANSCRIBING.value}
    transcribed = bool(revisions) or bool(seen)
    state = approval_state_of(study, interview.id) if transcribed else None
    return InterviewFacts(
        participant_id=interview.participant_id,
        site=participant.site,
        role=participant.role,
        wave=interview.wave,
        # Ended or interrupted; InterviewFacts.has_audio adds "with audio recorded" (the stored
        # duration is the audio recorded).
        done=interview.status in DONE,
        duration_s=interview.duration_s,
        started_at=interview.started_at,
        notes=len(Events(study.db).for_interview(interview.id, "note")),
        transcribed=transcribed,
        state=state.value if state else None,
        states_seen=frozenset(seen),
        edited_by_participant=any(r.kind == "participant" for r in revisions)
        or state is TranscriptState.APPROVED_WITH_CHANGES,
    )


def _term_facts(study: Study, interviews: Sequence[InterviewRow]) -> list[TermFacts]:
    terms = study.schedule().guarded_terms
    facts: list[TermFacts] = []
    repo = Transcripts(study.db)
    for interview in interviews:
        latest = repo.revision(interview.id)
        if latest is None:
            continue
        report = audit_transcript(
            terms, repo.segments(latest.id), guard_events(study, interview.id)
        )
        facts += [
            TermFacts(
                term=t.term,
                raised_by_participant=t.raised_at is not None,
                breaches=len(t.violations),
                followed_up=t.follow_up_asked,
            )
            for t in report.terms
        ]
    return facts


# -- fieldkit terms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TermPlace:
    participant: str
    wave: str
    at: float


@dataclass(frozen=True)
class TermCount:
    term: str
    transcripts: int  # transcripts in which the participant said it
    of: int  # transcripts searched
    places: list[TermPlace]

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "transcripts": self.transcripts,
            "of": self.of,
            "places": [
                {"participant": p.participant, "wave": p.wave, "at": round(p.at, 2)}
                for p in self.places
            ],
        }


def searchable_interviews(study: Study) -> dict[int, InterviewRow]:
    """Interviews with a transcript, except withdrawn ones: the participant withdrew consent or
    the transcript (the same rule as the study report's figures)."""
    by_id = {i.id: i for i in Interviews(study.db).all()}
    consent = {p.id: p.status.value for p in Participants(study.db).all()}
    result = {}
    for interview_id in TranscriptSearch(study.db).transcribed_interviews():
        interview = by_id[interview_id]
        state = approval_state_of(study, interview_id).value
        if is_withdrawn(consent.get(interview.participant_id), state):
            continue
        result[interview_id] = interview
    return result


def term_counts(study: Study, words: Sequence[str]) -> list[TermCount]:
    """In how many transcripts (latest revision) the participant says each word or phrase, and
    where. Full-text search with stemming: "journey" also finds "journeys"."""
    if not words:
        raise FieldkitError(
            "name at least one word or phrase", 'e.g. fieldkit terms journey "peer work"'
        )
    for word in words:
        if not re.search(r"\w", word):
            raise FieldkitError(f"{word!r} has no letters or digits to search for", "give a word")
    interviews = searchable_interviews(study)
    search = TranscriptSearch(study.db)
    counts = []
    for word in words:
        try:
            hits = [h for h in search.participant_hits(word) if h.interview_id in interviews]
        except sqlite3.OperationalError as error:
            raise FieldkitError(
                f"cannot search for {word!r}: {error}", "try a plainer word"
            ) from None
        places = [
            TermPlace(
                interviews[h.interview_id].participant_id, interviews[h.interview_id].wave, h.at
            )
            for h in hits
        ]
        found = len({h.interview_id for h in hits})
        counts.append(TermCount(" ".join(word.split()), found, len(interviews), places))
    return counts
