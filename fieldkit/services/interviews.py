"""Interviews: starting, listing and ending them, and what happens during one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fieldkit.core.guard import GuardEvent, GuardEventKind, GuardTracker, TermState
from fieldkit.core.models import InterviewStatus, Participant, Speaker
from fieldkit.core.participants import require_consent
from fieldkit.core.wording import interview_status_phrase
from fieldkit.errors import FieldkitError
from fieldkit.names import check_safe_name
from fieldkit.services.participants import get_participant
from fieldkit.services.study import Study, now_iso
from fieldkit.store.repo import EventRow, InterviewRow, Interviews, Recordings
from fieldkit.store.repo import Events as EventRepo

if TYPE_CHECKING:  # the schedule (and YAML) loads when an interview opens, not for every list
    from fieldkit.core.schedule import Question, Schedule, Topic


@dataclass(frozen=True)
class InterviewSummary:
    """One line of `fieldkit interviews` (and its JSON)."""

    participant: str
    wave: str
    status: str
    started: str | None
    ended: str | None
    duration_s: float | None
    recordings: list[str]
    transcript_state: str

    def to_json(self) -> dict[str, Any]:
        return {
            "participant": self.participant,
            "wave": self.wave,
            "status": self.status,
            "started": self.started,
            "ended": self.ended,
            "duration_s": self.duration_s,
            "recordings": self.recordings,
            "transcript_state": self.transcript_state,
        }


# A wave is over once its interview ended, was cut off by a crash, or consent was withdrawn.
FINISHED = (InterviewStatus.ENDED, InterviewStatus.INTERRUPTED, InterviewStatus.WITHDRAWN)


def list_interviews(study: Study) -> list[InterviewSummary]:
    from fieldkit.services.transcription import transcript_state  # it builds on this module

    summaries = []
    for row in Interviews(study.db).all():
        recordings = Recordings(study.db).for_interview(row.id)
        summaries.append(
            InterviewSummary(
                participant=row.participant_id,
                wave=row.wave,
                status=row.status.value,
                started=row.started_at,
                ended=row.ended_at,
                # Derived, not stored: the audio recorded so far (an open interview included).
                duration_s=round(sum(r.duration_s or 0.0 for r in recordings), 2),
                recordings=[r.path for r in recordings],
                transcript_state=transcript_state(study, row.id),
            )
        )
    return summaries


def interviews_of(study: Study, participant_id: str) -> list[InterviewRow]:
    """A participant's interviews, oldest first."""
    return Interviews(study.db).for_participant(participant_id)


def latest_interview_ids(study: Study) -> dict[str, int]:
    """Each participant's most recent interview."""
    return {row.participant_id: row.id for row in Interviews(study.db).all()}


def get_interview(study: Study, interview_id: int) -> InterviewRow:
    return Interviews(study.db).get(interview_id)


def recorded_seconds(study: Study, interview_id: int) -> float:
    """Everything recorded for an interview so far (pauses excluded): its duration, and where a
    new recording starts on its clock. Time spent on the screen without recording never counts."""
    return sum(r.duration_s or 0.0 for r in Recordings(study.db).for_interview(interview_id))


def has_audio(study: Study, interview_id: int) -> bool:
    """The interview has recorded audio (what makes it count as "audio-recorded" in a report)."""
    return recorded_seconds(study, interview_id) > 0


def recordings_marked_running(study: Study) -> bool:
    """Any recording whose row still says "recording" (live elsewhere, or cut off by a crash)."""
    return bool(Recordings(study.db).with_status("recording"))


def check_wave(study: Study, wave: str) -> str:
    """A wave named on the command line: one of the study's waves (it becomes part of file
    names, so nothing but letters, digits, - and _ gets through)."""
    listed = ", ".join(study.config.waves)
    if wave not in study.config.waves:
        raise FieldkitError(f"unknown wave {wave!r}", f"choose one of: {listed}")
    return check_safe_name(wave, "wave")  # it becomes part of recording file names


def current_interview(study: Study, participant_id: str) -> InterviewRow | None:
    """The participant's latest interview (the wave they are in), if any."""
    rows = Interviews(study.db).for_participant(participant_id)
    return rows[-1] if rows else None


def next_wave(study: Study, participant: Participant) -> str | None:
    """The first of the study's waves this participant has not finished, if any is left."""
    done = {
        row.wave
        for row in Interviews(study.db).for_participant(participant.id)
        if row.status in FINISHED
    }
    return next((wave for wave in study.config.waves if wave not in done), None)


def wave_to_record(study: Study, participant: Participant, wave: str | None) -> str:
    """The wave a recording (or an import) goes into. Without `wave`: the first wave, or the
    wave in progress. A new wave never starts silently: once the current one has ended, the
    caller must name the next one."""
    if wave:
        return check_wave(study, wave)
    current = current_interview(study, participant.id)
    if current is None:
        first = next_wave(study, participant)
        if first is None:
            raise FieldkitError("the study has no waves", "add waves to study.toml")
        return first
    if current.status not in FINISHED:
        return current.wave
    following = next_wave(study, participant)
    if following is None:
        raise FieldkitError(
            f"participant {participant.id} has been interviewed in every wave",
            "add a wave to study.toml to interview again",
        )
    raise FieldkitError(
        f"the {current.wave} interview of participant {participant.id} is over "
        f"({current.status.value}); recording again starts the next wave, {following!r}",
        f"to start it, add --wave {following}",
    )


def start_interview(study: Study, participant_id: str, wave: str | None = None) -> InterviewRow:
    """Open (or resume) the participant's interview for a wave. Requires current consent.
    Without `wave`, see `wave_to_record`: an ended wave is never followed by a new one silently."""
    return open_interview(study, participant_id, wave)[0]


def open_interview(
    study: Study, participant_id: str, wave: str | None = None
) -> tuple[InterviewRow, bool]:
    """`start_interview`, also saying whether this call created the interview's row (decided
    under the write lock, so two processes racing cannot both think they opened it)."""
    schedule = study.schedule()
    repo = Interviews(study.db)
    with study.transaction():  # the state is read and changed under the write lock
        participant = get_participant(study, participant_id)
        require_consent(participant)
        wave = wave_to_record(study, participant, wave)
        existing = repo.find(participant.id, wave)
        if existing is not None:
            if existing.status is InterviewStatus.IN_PROGRESS:
                return existing, False
            if existing.status is not InterviewStatus.NOT_STARTED:
                raise FieldkitError(
                    f"participant {participant.id} was already interviewed in wave {wave!r} "
                    f"({existing.status.value})",
                    "choose another wave with --wave",
                )
        values = {
            "status": InterviewStatus.IN_PROGRESS.value,
            "schedule_id": schedule.id,
            "schedule_path": study.config.schedule,
            "interviewer": study.actor,
            "started_at": now_iso(),
            "channel_map": study.config.recording.channel_map,
        }
        if existing is None:
            interview_id = repo.insert(participant_id=participant.id, wave=wave, **values)
        else:
            interview_id = existing.id
            values.pop("channel_map")
            repo.update(interview_id, **values)
        study.audit("interview started", participant.id, interview_id, wave=wave)
    return repo.get(interview_id), existing is None


def end_interview(study: Study, interview_id: int) -> InterviewRow:
    """End an open interview. Its duration is the audio recorded for it, nothing else. An
    interview withdrawn meanwhile stays withdrawn (its duration is brought up to date)."""
    repo = Interviews(study.db)
    with study.transaction():
        row = repo.get(interview_id)
        if row.status not in (InterviewStatus.IN_PROGRESS, InterviewStatus.WITHDRAWN):
            raise FieldkitError(
                f"the {row.wave} interview of {row.participant_id} "
                f"{interview_status_phrase(row.status)}",
                "nothing changed",
            )
        duration = round(recorded_seconds(study, interview_id), 2)
        if row.status is InterviewStatus.WITHDRAWN:
            repo.update(interview_id, duration_s=duration)
        else:
            repo.update(
                interview_id, status=InterviewStatus.ENDED, ended_at=now_iso(), duration_s=duration
            )
            study.audit("interview ended", row.participant_id, interview_id, duration_s=duration)
    return repo.get(interview_id)


def withdraw_open_interviews(study: Study, participant_id: str) -> list[InterviewRow]:
    """Consent was withdrawn: the participant's open interview is marked withdrawn (what was
    recorded before is kept). Call it inside the withdrawal's own transaction."""
    repo = Interviews(study.db)
    withdrawn = []
    with study.transaction():
        for row in repo.for_participant(participant_id):
            if row.status not in (InterviewStatus.IN_PROGRESS, InterviewStatus.NOT_STARTED):
                continue
            duration = round(recorded_seconds(study, row.id), 2)
            repo.update(
                row.id, status=InterviewStatus.WITHDRAWN, ended_at=now_iso(), duration_s=duration
            )
            study.audit(
                "interview withdrawn: consent withdrawn",
                participant_id,
                row.id,
                wave=row.wave,
                duration_s=duration,
            )
            withdrawn.append(repo.get(row.id))
    return withdrawn


def interview_events(study: Study, interview_id: int, kind: str | None = None) -> list[EventRow]:
    return EventRepo(study.db).for_interview(interview_id, kind)


def guard_events(study: Study, interview_id: int) -> list[GuardEvent]:
    return [
        GuardEvent(
            term=row.term or "",
            kind=GuardEventKind(row.guard_kind),
            speaker=Speaker(row.speaker or Speaker.UNKNOWN),
            at=row.at,
            context=row.text or "",
            source=row.source or "live",
        )
        for row in interview_events(study, interview_id, "guard")
    ]


def stored_tracker(study: Study, interview: InterviewRow) -> GuardTracker:
    """The interview's guard state as stored so far (it survives restarts)."""
    terms = study.schedule().guarded_terms
    return GuardTracker.from_events(terms, guard_events(study, interview.id))


def store_guard_event(study: Study, interview: InterviewRow, event: GuardEvent) -> None:
    """Store a guard event (key press or live guard) on the interview clock. The words around
    the use stay in the database with the interview; the audit log gets no speech."""
    with study.transaction():
        EventRepo(study.db).add(
            interview.id,
            round(event.at, 3),
            "guard",
            now_iso(),
            term=event.term,
            guard_kind=event.kind.value,
            speaker=event.speaker.value,
            source=event.source,
            text=event.context or None,
        )
        study.audit(
            f"guard {event.kind.value}",
            interview.participant_id,
            interview.id,
            at=round(event.at, 3),
            term=event.term,
            speaker=event.speaker.value,
            source=event.source,
        )


class Clock:
    """Interview time in seconds: recorded audio, pauses excluded. It stands still while nothing
    is recording (before the first recording it shows what earlier recordings hold); a recording
    session swaps in the recorder's clock."""

    def __init__(self, offset: float = 0.0) -> None:
        self._offset = offset
        self.source: Callable[[], float] | None = None

    def now(self) -> float:
        if self.source is not None:
            return self.source()
        return self._offset


class InterviewSession:
    """What happens during one interview: walking the schedule, guard state, markers, notes.

    Every change is stored at once with its time on the interview clock, so a crash loses nothing
    and later issues can line events up with the audio."""

    def __init__(self, study: Study, interview: InterviewRow, clock: Clock | None = None) -> None:
        self.study = study
        self.interview = interview
        self.participant = get_participant(study, interview.participant_id)
        self.schedule: Schedule = study.schedule()
        self.steps = self.schedule.steps()
        events = interview_events(study, interview.id)
        self.guard = stored_tracker(study, interview)
        self.asked: set[str] = {
            e.question_id for e in events if e.kind == "question" and e.question_id
        }
        self.index = self._resume_index(events)
        self.clock = clock or Clock(offset=recorded_seconds(study, interview.id))

    @classmethod
    def start(cls, study: Study, participant_id: str, wave: str | None = None) -> InterviewSession:
        session = cls(study, start_interview(study, participant_id, wave))
        if not session.asked:
            session._store_question(session.index)
        return session

    @classmethod
    def view(cls, study: Study, interview: InterviewRow) -> InterviewSession:
        """An interview that has ended, to look at: nothing in it can change any more."""
        return cls(study, interview)

    @property
    def is_open(self) -> bool:
        return self.interview.status is InterviewStatus.IN_PROGRESS

    def _require_open(self) -> None:
        """Checked inside the write transaction: consent may have been withdrawn elsewhere."""
        row = Interviews(self.study.db).get(self.interview.id)
        if row.status is not InterviewStatus.IN_PROGRESS:
            self.interview = row
            raise FieldkitError(
                f"the {row.wave} interview of {row.participant_id} "
                f"{interview_status_phrase(row.status)}",
                "nothing more can be added to it",
            )

    def _resume_index(self, events: list[EventRow]) -> int:
        questions = [e.question_id for e in events if e.kind == "question"]
        ids = [q.id for _, q in self.steps]
        return ids.index(questions[-1]) if questions and questions[-1] in ids else 0

    # -- where we are in the schedule --------------------------------------------------------
    @property
    def current(self) -> tuple[Topic, Question]:
        return self.steps[self.index]

    def available(self, requires: tuple[str, ...]) -> bool:
        return self.guard.is_unlocked(requires)

    def covered_topics(self) -> set[str]:
        """A topic counts as covered once any of its questions has been asked."""
        return {topic.id for topic, q in self.steps if q.id in self.asked}

    def next_question(self) -> bool:
        return self._move(+1)

    def previous_question(self) -> bool:
        return self._move(-1)

    def _move(self, step: int) -> bool:
        index = self.index + step
        # Skip questions still gated on a term the participant has not raised.
        while 0 <= index < len(self.steps) and not self.available(self.steps[index][1].requires):
            index += step
        if not 0 <= index < len(self.steps):
            return False
        if self.is_open:  # looking through an ended interview stores nothing
            self._store_question(index)
        self.index = index
        return True

    def _store_question(self, index: int) -> None:
        topic, question = self.steps[index]
        self._add_event("question", topic_id=topic.id, question_id=question.id)
        self.asked.add(question.id)

    # -- guard, markers, notes ---------------------------------------------------------------
    def locked_terms(self) -> list[str]:
        return [
            t.term
            for t in self.schedule.guarded_terms
            if self.guard.state(t.term) is TermState.LOCKED
        ]

    def mark_raised(self, term: str) -> GuardEvent:
        self._check_open()
        if self.guard.state(term) is not TermState.LOCKED:
            raise FieldkitError(f"{term!r} has already been raised", "nothing changed")
        event = self.guard.mark_raised(term, at=self.clock.now())
        self.record_guard_event(event)
        return event

    def mark_followed_up(self, term: str) -> GuardEvent:
        self._check_open()
        if self.guard.state(term) is TermState.LOCKED:
            raise FieldkitError(
                f"{term!r} has not been raised by the participant yet", "do not ask about it"
            )
        event = self.guard.mark_followed_up(term, at=self.clock.now())
        self.record_guard_event(event)
        return event

    def record_guard_event(self, event: GuardEvent) -> None:
        """Store a guard event (from a key press, or from the live guard)."""
        store_guard_event(self.study, self.interview, event)

    def marker(self, label: str = "", at: float | None = None) -> float:
        """A timestamped marker; `at` is when the key was pressed (default: now)."""
        return self._add_event("marker", at=at, text=label or None)

    def note(self, text: str, at: float | None = None) -> float:
        """A field note, timed when the interviewer started writing it (`at`) or now."""
        if not text.strip():
            raise FieldkitError("the note is empty", "type something before saving")
        return self._add_event("note", at=at, text=text.strip())

    def elapsed(self) -> float:
        return self.clock.now()

    def end(self) -> InterviewRow:
        """End the interview; its duration is what its recordings hold."""
        self.interview = end_interview(self.study, self.interview.id)
        return self.interview

    def _check_open(self) -> None:
        with self.study.transaction():
            self._require_open()

    def _add_event(
        self, kind: str, audit: str | None = None, at: float | None = None, **values: Any
    ) -> float:
        at = round(self.clock.now() if at is None else at, 3)
        with self.study.transaction():
            self._require_open()
            EventRepo(self.study.db).add(self.interview.id, at, kind, now_iso(), **values)
            # Notes are field data: the audit log says a note was taken, not what it says.
            detail = {k: v for k, v in values.items() if k != "text"}
            self.study.audit(audit or kind, self.participant.id, self.interview.id, at=at, **detail)
        return at
