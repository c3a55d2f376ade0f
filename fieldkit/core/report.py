"""The study report: who was interviewed and how, as figures and a COREQ-style methods paragraph.

Pure: the service gathers plain facts from the store and the approval workflow; this module
counts, summarises and writes. Durations are reported in minutes; the SD is the sample standard
deviation (n − 1), as methods sections report it.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParticipantFacts:
    id: str
    site: str
    role: str
    status: str  # consented | pending | withdrawn


@dataclass(frozen=True)
class InterviewFacts:
    participant_id: str
    site: str
    role: str
    wave: str
    done: bool  # ended or interrupted (recorded), not merely started
    duration_s: float | None
    interviewer: str | None
    started_at: str | None  # ISO timestamp
    notes: int = 0  # field notes taken during the interview
    transcribed: bool = False
    state: str | None = None  # approval state now (fieldkit.core.workflow.TranscriptState value)
    states_seen: frozenset[str] = frozenset()  # every approval state it has been in
    edited_by_participant: bool = False


@dataclass(frozen=True)
class TermFacts:
    """One guarded term in one transcript (from fieldkit.core.audit)."""

    term: str
    raised_by_participant: bool
    breaches: int
    followed_up: bool


@dataclass(frozen=True)
class DurationStats:
    n: int
    mean: float | None
    median: float | None
    sd: float | None  # None below two interviews
    min: float | None
    max: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": _round(self.mean),
            "median": _round(self.median),
            "sd": _round(self.sd),
            "min": _round(self.min),
            "max": _round(self.max),
        }

    def describe(self) -> str:
        if not self.n or self.mean is None:
            return "no interviews"
        sd = f"SD {self.sd:.1f}; " if self.sd is not None else ""
        return (
            f"mean {self.mean:.1f} min ({sd}median {self.median:.1f}; "
            f"range {self.min:.1f}–{self.max:.1f}), n = {self.n}"
        )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def duration_stats(minutes: Sequence[float]) -> DurationStats:
    if not minutes:
        return DurationStats(0, None, None, None, None, None)
    return DurationStats(
        n=len(minutes),
        mean=statistics.fmean(minutes),
        median=float(statistics.median(minutes)),
        sd=statistics.stdev(minutes) if len(minutes) > 1 else None,
        min=min(minutes),
        max=max(minutes),
    )


@dataclass(frozen=True)
class TermSummary:
    term: str
    transcripts: int  # transcripts audited
    raised_in: int  # transcripts where the participant raised it
    followed_up_in: int
    breaches: int  # interviewer uses before the participant raised it, all transcripts
    transcripts_with_breaches: int

    def to_json(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "transcripts": self.transcripts,
            "raised_by_participant_in": self.raised_in,
            "followed_up_in": self.followed_up_in,
            "breaches": self.breaches,
            "transcripts_with_breaches": self.transcripts_with_breaches,
        }


@dataclass(frozen=True)
class ApprovalSummary:
    states: dict[str, int]  # current state → transcripts
    sent: int  # returned to participants for review (COREQ item 23)
    returned: int  # the participant sent their copy back
    approved: int  # approved, with or without changes
    approved_with_changes: int
    edited_by_participant: int
    withdrawn: int
    no_response: int

    def to_json(self) -> dict[str, Any]:
        return {
            "states": self.states,
            "sent_to_participants": self.sent,
            "returned_by_participants": self.returned,
            "approved": self.approved,
            "approved_with_changes": self.approved_with_changes,
            "edited_by_participant": self.edited_by_participant,
            "withdrawn": self.withdrawn,
            "no_response": self.no_response,
        }


@dataclass(frozen=True)
class StudyReport:
    title: str
    participants_by_site_role: dict[str, dict[str, int]]
    participant_status: dict[str, int]  # consented/pending/withdrawn → n
    interviewed: int  # participants with at least one recorded interview
    interviews_per_wave: dict[str, int]
    durations: DurationStats
    durations_by_role: dict[str, DurationStats]
    terms: list[TermSummary]
    approval: ApprovalSummary
    methods: str
    interview_minutes: list[tuple[str, str, float]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "participants": {
                "by_site_and_role": self.participants_by_site_role,
                "status": self.participant_status,
                "interviewed": self.interviewed,
            },
            "interviews_per_wave": self.interviews_per_wave,
            "durations_minutes": {
                "overall": self.durations.to_json(),
                "by_role": {k: v.to_json() for k, v in self.durations_by_role.items()},
            },
            "interviews": [
                {"participant": p, "wave": w, "minutes": round(m, 2)}
                for p, w, m in self.interview_minutes
            ],
            "guarded_terms": [t.to_json() for t in self.terms],
            "approval": self.approval.to_json(),
            "methods": self.methods,
        }


# -- building the report ---------------------------------------------------------------------


def build_report(
    title: str,
    participants: Sequence[ParticipantFacts],
    interviews: Sequence[InterviewFacts],
    term_facts: Sequence[TermFacts],
    sites: Sequence[str] = (),
    roles: Sequence[str] = (),
    waves: Sequence[str] = (),
    role_labels: Mapping[str, str] | None = None,
) -> StudyReport:
    labels = dict(role_labels or {})
    done = [i for i in interviews if i.done]
    timed = [i for i in done if i.duration_s is not None]
    by_role = {
        role: duration_stats([i.duration_s / 60 for i in timed if i.role == role and i.duration_s])
        for role in _ordered(roles, {i.role for i in timed})
    }
    approval = summarise_approval(interviews)
    durations = duration_stats([i.duration_s / 60 for i in timed if i.duration_s is not None])
    return StudyReport(
        title=title,
        participants_by_site_role=_by_site_role(participants, sites, roles),
        participant_status=dict(Counter(p.status for p in participants)),
        interviewed=len({i.participant_id for i in done}),
        interviews_per_wave={
            wave: sum(1 for i in done if i.wave == wave)
            for wave in _ordered(waves, {i.wave for i in done})
        },
        durations=durations,
        durations_by_role=by_role,
        terms=summarise_terms(term_facts),
        approval=approval,
        methods=methods_paragraph(participants, interviews, durations, approval, labels),
        interview_minutes=[(i.participant_id, i.wave, (i.duration_s or 0.0) / 60) for i in timed],
    )


def _ordered(preferred: Sequence[str], present: set[str]) -> list[str]:
    """The configured order first, then anything else present (sorted)."""
    return [*preferred, *sorted(present - set(preferred))]


def _by_site_role(
    participants: Sequence[ParticipantFacts], sites: Sequence[str], roles: Sequence[str]
) -> dict[str, dict[str, int]]:
    all_sites = _ordered(sites, {p.site for p in participants})
    all_roles = _ordered(roles, {p.role for p in participants})
    return {
        site: {
            role: sum(1 for p in participants if p.site == site and p.role == role)
            for role in all_roles
        }
        for site in all_sites
    }


def summarise_terms(facts: Sequence[TermFacts]) -> list[TermSummary]:
    terms = list(dict.fromkeys(f.term for f in facts))
    summaries = []
    for term in terms:
        rows = [f for f in facts if f.term == term]
        summaries.append(
            TermSummary(
                term=term,
                transcripts=len(rows),
                raised_in=sum(1 for f in rows if f.raised_by_participant),
                followed_up_in=sum(1 for f in rows if f.followed_up),
                breaches=sum(f.breaches for f in rows),
                transcripts_with_breaches=sum(1 for f in rows if f.breaches),
            )
        )
    return summaries


# State values of fieldkit.core.workflow.TranscriptState (kept as text: the report only counts).
SENT, RETURNED = "sent to participant", "returned"
APPROVED, APPROVED_WITH_CHANGES = "approved", "approved with changes"
WITHDRAWN, NO_RESPONSE = "withdrawn", "no response"


# Every state after "sent to participant" can only be reached by sending (fieldkit.core.workflow):
# a transcript in one of them was returned to its participant, whatever history is at hand.
AFTER_SENDING = frozenset({SENT, RETURNED, APPROVED, APPROVED_WITH_CHANGES, WITHDRAWN, NO_RESPONSE})
AFTER_RETURN = frozenset({RETURNED, APPROVED_WITH_CHANGES})


def summarise_approval(interviews: Sequence[InterviewFacts]) -> ApprovalSummary:
    transcribed = [i for i in interviews if i.transcribed]
    seen = [i.states_seen | ({i.state} if i.state else set()) for i in transcribed]
    return ApprovalSummary(
        states=dict(Counter(i.state for i in transcribed if i.state)),
        sent=sum(1 for s in seen if s & AFTER_SENDING),
        returned=sum(1 for s in seen if s & AFTER_RETURN),
        approved=sum(1 for i in transcribed if i.state in (APPROVED, APPROVED_WITH_CHANGES)),
        approved_with_changes=sum(1 for i in transcribed if i.state == APPROVED_WITH_CHANGES),
        edited_by_participant=sum(1 for i in transcribed if i.edited_by_participant),
        withdrawn=sum(1 for i in transcribed if i.state == WITHDRAWN),
        no_response=sum(1 for i in transcribed if i.state == NO_RESPONSE),
    )


# -- the methods paragraph -------------------------------------------------------------------


def _count(n: int, one: str, many: str | None = None) -> str:
    word = one if n == 1 else (many or f"{one}s")
    return f"{n} {word}"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


UNCOUNTABLE = ("staff", "personnel", "s")  # endings that take no plural "s"


def _plural_label(label: str, n: int) -> str:
    word = label.lower()
    return word if n == 1 or word.endswith(UNCOUNTABLE) else f"{word}s"


def _role_phrase(
    participants: Sequence[str], roles: Mapping[str, str], labels: Mapping[str, str]
) -> str:
    counts = Counter(roles[p] for p in participants)
    return _join([f"{n} {_plural_label(labels.get(role, role), n)}" for role, n in counts.items()])


def methods_paragraph(
    participants: Sequence[ParticipantFacts],
    interviews: Sequence[InterviewFacts],
    durations: DurationStats,
    approval: ApprovalSummary,
    role_labels: Mapping[str, str],
) -> str:
    """COREQ items 1 (interviewer), 14 (setting), 17 (repeat interviews), 20 (field notes),
    21 (duration) and 23 (transcripts returned), written from the data."""
    done = [i for i in interviews if i.done]
    if not done:
        return "No interviews have been conducted yet."
    sentences = [
        _who_and_where(done),
        _with_whom(done, participants, role_labels),
        _how_long(durations),
        _repeats(done),
        _field_notes(done),
        _returned(approval, sum(1 for i in interviews if i.transcribed)),
    ]
    return " ".join(s for s in sentences if s)


def _who_and_where(done: Sequence[InterviewFacts]) -> str:
    interviewers = sorted({i.interviewer for i in done if i.interviewer})
    who = (
        f"by {_count(len(interviewers), 'interviewer')} ({_join(interviewers)})"
        if interviewers
        else "by the study's interviewers"
    )
    dates = sorted(i.started_at[:10] for i in done if i.started_at)
    when = ""
    if dates:
        when = (
            f" on {dates[0]}" if dates[0] == dates[-1] else f" between {dates[0]} and {dates[-1]}"
        )
    sites = list(dict.fromkeys(i.site for i in done))
    where = f" at {_count(len(sites), 'site')} ({_join(sites)})"
    return f"Semi-structured interviews were conducted {who}{when}{where}."


def _with_whom(
    done: Sequence[InterviewFacts],
    participants: Sequence[ParticipantFacts],
    labels: Mapping[str, str],
) -> str:
    people = list(dict.fromkeys(i.participant_id for i in done))
    roles = {p.id: p.role for p in participants} | {i.participant_id: i.role for i in done}
    return (
        f"{_count(len(done), 'interview').capitalize()} were audio-recorded with "
        f"{_count(len(people), 'participant')} ({_role_phrase(people, roles, labels)})."
    ).replace("1 interview were", "1 interview was")


def _how_long(durations: DurationStats) -> str:
    if not durations.n or durations.mean is None:
        return ""
    if durations.n == 1:
        return f"The interview lasted {durations.mean:.0f} minutes."
    sd = f"SD {durations.sd:.1f}, " if durations.sd is not None else ""
    return (
        f"Interviews lasted a mean of {durations.mean:.1f} minutes ({sd}median "
        f"{durations.median:.1f}, range {_whole(durations.min)}–{_whole(durations.max)})."
    )


def _whole(minutes: float | None) -> str:
    """Whole minutes, as methods sections give a range; tenths below ten minutes."""
    value = minutes or 0.0
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


def _repeats(done: Sequence[InterviewFacts]) -> str:
    waves_by_person: dict[str, set[str]] = {}
    for i in done:
        waves_by_person.setdefault(i.participant_id, set()).add(i.wave)
    repeat = sum(1 for waves in waves_by_person.values() if len(waves) > 1)
    if not repeat:
        return "No repeat interviews were carried out."
    waves = list(dict.fromkeys(i.wave for i in done))
    return (
        f"{_count(repeat, 'participant').capitalize()} "
        f"{'was' if repeat == 1 else 'were'} interviewed more than once ({_join(waves)})."
    )


def _field_notes(done: Sequence[InterviewFacts]) -> str:
    with_notes = sum(1 for i in done if i.notes)
    if not with_notes:
        return "No field notes were taken during the interviews."
    return f"Field notes were taken during {with_notes} of {len(done)} interviews."


def _returned(approval: ApprovalSummary, transcribed: int) -> str:
    if not transcribed:
        return ""
    if not approval.sent:
        return "Transcripts have not been returned to participants."
    parts = [
        f"Transcripts were returned to participants for comment and correction "
        f"({approval.sent} of {transcribed})"
    ]
    outcome = [f"{approval.approved} approved"]
    if approval.approved_with_changes:
        outcome.append(f"{approval.approved_with_changes} of them with changes")
    if approval.no_response:
        outcome.append(f"{approval.no_response} did not respond")
    if approval.withdrawn:
        outcome.append(f"{approval.withdrawn} withdrew")
    return f"{parts[0]}; {', '.join(outcome)}."


# -- as text (CLI and app) -------------------------------------------------------------------


def report_lines(report: StudyReport) -> list[str]:
    lines = [f"# {report.title}", "", "Participants by site and role"]
    roles = list(next(iter(report.participants_by_site_role.values()), {}).keys())
    lines.append("  " + f"{'':<12}" + "".join(f"{r:>8}" for r in roles))
    for site, counts in report.participants_by_site_role.items():
        lines.append("  " + f"{site:<12}" + "".join(f"{counts[r]:>8}" for r in roles))
    status = ", ".join(f"{n} {s}" for s, n in sorted(report.participant_status.items()))
    lines.append(f"  {status or 'none yet'}; {report.interviewed} interviewed")
    lines += ["", "Interviews per wave"]
    lines += [f"  {wave:<14}{n}" for wave, n in report.interviews_per_wave.items()]
    lines += ["", "Durations (minutes)", f"  overall   {report.durations.describe()}"]
    lines += [f"  {role:<10}{s.describe()}" for role, s in report.durations_by_role.items()]
    lines += ["", "Guarded terms"]
    for t in report.terms:
        lines.append(
            f"  {t.term}: raised by the participant in {t.raised_in} of {t.transcripts} "
            f"transcripts, followed up in {t.followed_up_in}; {t.breaches} breach(es) in "
            f"{t.transcripts_with_breaches} transcript(s)"
        )
    if not report.terms:
        lines.append("  no transcripts yet")
    a = report.approval
    lines += [
        "",
        "Approval",
        f"  sent to participants {a.sent}, returned {a.returned}, approved {a.approved} "
        f"({a.approved_with_changes} with changes), edited by the participant "
        f"{a.edited_by_participant}, no response {a.no_response}, withdrawn {a.withdrawn}",
    ]
    if a.states:
        lines.append("  now: " + ", ".join(f"{n} {s}" for s, n in sorted(a.states.items())))
    lines += ["", "Methods", f"  {report.methods}"]
    return lines
