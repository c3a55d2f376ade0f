"""The study report: who was interviewed and how, as figures and a COREQ-style methods paragraph.

Pure: the service gathers plain facts from the store and the approval workflow; this module
counts, summarises and writes. Durations are reported in minutes; the SD is the sample standard
deviation (n − 1), as methods sections report it.

Which interviews the figures describe (one rule, used by every figure and by `fieldkit terms`):
- an interview counts once it was ended (or cut off and recovered) with recorded audio; one
  ended with nothing recorded (no recordings, or 0 s) is not an audio-recorded interview;
- a withdrawal takes an interview out of every figure: the participant withdrew consent, or
  withdrew the transcript when it was returned to them (`is_withdrawn`). Withdrawals are
  counted on their own (`WithdrawalSummary`), never silently dropped.
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
    duration_s: float | None  # recorded audio (the sum of the interview's recordings)
    started_at: str | None  # ISO timestamp
    notes: int = 0  # field notes taken during the interview
    transcribed: bool = False
    state: str | None = None  # approval state now (fieldkit.core.workflow.TranscriptState value)
    states_seen: frozenset[str] = frozenset()  # every approval state it has been in
    edited_by_participant: bool = False

    @property
    def has_audio(self) -> bool:
        """Ended with something recorded: an audio-recorded interview."""
        return self.done and (self.duration_s or 0.0) > 0


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
    """Returning transcripts to participants, for the transcripts the figures describe (those
    withdrawn are counted in `withdrawn` only)."""

    states: dict[str, int]  # current state → transcripts
    sent: int  # returned to participants for review (COREQ item 23)
    returned: int  # the participant sent their copy back
    approved: int  # approved, with or without changes
    approved_with_changes: int
    edited_by_participant: int
    withdrawn: int  # withdrawn by the participant at review (not in the figures above)
    no_response: int
    transcribed: int  # transcripts the figures above are out of

    def to_json(self) -> dict[str, Any]:
        return {
            "states": self.states,
            "transcribed": self.transcribed,
            "sent_to_participants": self.sent,
            "returned_by_participants": self.returned,
            "approved": self.approved,
            "approved_with_changes": self.approved_with_changes,
            "edited_by_participant": self.edited_by_participant,
            "withdrawn": self.withdrawn,
            "no_response": self.no_response,
        }


@dataclass(frozen=True)
class WithdrawalSummary:
    """Who withdrew, and what that takes out of the figures (COREQ item 12: dropped out)."""

    consent_withdrawn: int  # participants who withdrew consent
    consent_withdrawn_after_interview: int  # … of them, after an audio-recorded interview
    transcripts_withdrawn: int  # transcripts withdrawn by their participant at review
    interviews_excluded: int  # audio-recorded interviews left out of every figure

    def to_json(self) -> dict[str, Any]:
        return {
            "consent_withdrawn": self.consent_withdrawn,
            "consent_withdrawn_after_interview": self.consent_withdrawn_after_interview,
            "transcripts_withdrawn": self.transcripts_withdrawn,
            "interviews_excluded": self.interviews_excluded,
        }

    def describe(self) -> str:
        if not (self.consent_withdrawn or self.transcripts_withdrawn):
            return "none"
        return (
            f"{count_noun(self.consent_withdrawn, 'participant')} withdrew consent "
            f"({self.consent_withdrawn_after_interview} after being interviewed); "
            f"{count_noun(self.transcripts_withdrawn, 'transcript')} withdrawn at review; "
            f"{count_noun(self.interviews_excluded, 'interview')} left out of these figures"
        )


@dataclass(frozen=True)
class StudyReport:
    title: str
    participants_by_site_role: dict[str, dict[str, int]]
    participant_status: dict[str, int]  # consented/pending/withdrawn → n
    interviewed: int  # participants with at least one interview in the figures
    interviews_per_wave: dict[str, int]
    durations: DurationStats
    durations_by_role: dict[str, DurationStats]
    terms: list[TermSummary]
    approval: ApprovalSummary
    methods: str
    interview_minutes: list[tuple[str, str, float]] = field(default_factory=list)
    withdrawals: WithdrawalSummary = field(default_factory=lambda: WithdrawalSummary(0, 0, 0, 0))
    without_audio: int = 0  # interviews ended with nothing recorded (in no figure)
    interviewers: tuple[str, ...] = ()  # from the study's settings

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "participants": {
                "by_site_and_role": self.participants_by_site_role,
                "status": self.participant_status,
                "interviewed": self.interviewed,
            },
            "interviewers": list(self.interviewers),
            "interviews_per_wave": self.interviews_per_wave,
            "interviews_without_audio": self.without_audio,
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
            "withdrawals": self.withdrawals.to_json(),
            "methods": self.methods,
        }


# -- which interviews the figures describe ---------------------------------------------------

# State values of fieldkit.core.workflow.TranscriptState (kept as text: the report only counts).
SENT, RETURNED = "sent to participant", "returned"
APPROVED, APPROVED_WITH_CHANGES = "approved", "approved with changes"
WITHDRAWN, NO_RESPONSE = "withdrawn", "no response"
CONSENT_WITHDRAWN = "withdrawn"  # fieldkit.core.models.ConsentStatus.WITHDRAWN


def is_withdrawn(consent_status: str | None, transcript_state: str | None) -> bool:
    """Withdrawn from the study's data: consent withdrawn, or the transcript withdrawn at review.
    The report's figures and `fieldkit terms` leave such interviews out."""
    return consent_status == CONSENT_WITHDRAWN or transcript_state == WITHDRAWN


def _withdrawn(interview: InterviewFacts, consent: Mapping[str, str]) -> bool:
    return is_withdrawn(consent.get(interview.participant_id), interview.state)


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
    interviewers: Sequence[str] = (),
) -> StudyReport:
    """`term_facts` must already leave out withdrawn interviews (the service audits only the
    interviews `is_withdrawn` keeps)."""
    labels = dict(role_labels or {})
    consent = {p.id: p.status for p in participants}
    recorded = [i for i in interviews if i.has_audio]
    counted = [i for i in recorded if not _withdrawn(i, consent)]
    withdrawals = summarise_withdrawals(participants, interviews, len(recorded) - len(counted))
    durations = duration_stats([_minutes_of(i) for i in counted])
    by_role = {
        role: duration_stats([_minutes_of(i) for i in counted if i.role == role])
        for role in _ordered(roles, {i.role for i in counted})
    }
    approval = summarise_approval(
        [i for i in interviews if not _withdrawn(i, consent)], withdrawals.transcripts_withdrawn
    )
    facts = MethodsFacts(
        interviews=counted,
        participants=participants,
        durations=durations,
        approval=approval,
        withdrawals=withdrawals,
        role_labels=labels,
        interviewers=tuple(interviewers),
        sites=tuple(sites),
        any_recorded=bool(recorded),
    )
    return StudyReport(
        title=title,
        participants_by_site_role=_by_site_role(participants, sites, roles),
        participant_status=dict(Counter(p.status for p in participants)),
        interviewed=len({i.participant_id for i in counted}),
        interviews_per_wave={
            wave: sum(1 for i in counted if i.wave == wave)
            for wave in _ordered(waves, {i.wave for i in counted})
        },
        durations=durations,
        durations_by_role=by_role,
        terms=summarise_terms(term_facts),
        approval=approval,
        methods=methods_paragraph(facts),
        interview_minutes=[(i.participant_id, i.wave, _minutes_of(i)) for i in counted],
        withdrawals=withdrawals,
        without_audio=sum(1 for i in interviews if i.done and not i.has_audio),
        interviewers=tuple(interviewers),
    )


def _minutes_of(interview: InterviewFacts) -> float:
    return (interview.duration_s or 0.0) / 60


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


# Every state after "sent to participant" can only be reached by sending (fieldkit.core.workflow):
# a transcript in one of them was returned to its participant, whatever history is at hand.
AFTER_SENDING = frozenset({SENT, RETURNED, APPROVED, APPROVED_WITH_CHANGES, WITHDRAWN, NO_RESPONSE})
AFTER_RETURN = frozenset({RETURNED, APPROVED_WITH_CHANGES})


def summarise_approval(interviews: Sequence[InterviewFacts], withdrawn: int) -> ApprovalSummary:
    """The approval figures of `interviews` (withdrawn ones already left out); `withdrawn`
    transcripts are only counted."""
    transcribed = [i for i in interviews if i.transcribed]
    seen = [i.states_seen | ({i.state} if i.state else set()) for i in transcribed]
    return ApprovalSummary(
        states=dict(Counter(i.state for i in transcribed if i.state)),
        sent=sum(1 for s in seen if s & AFTER_SENDING),
        returned=sum(1 for s in seen if s & AFTER_RETURN),
        approved=sum(1 for i in transcribed if i.state in (APPROVED, APPROVED_WITH_CHANGES)),
        approved_with_changes=sum(1 for i in transcribed if i.state == APPROVED_WITH_CHANGES),
        edited_by_participant=sum(1 for i in transcribed if i.edited_by_participant),
        withdrawn=withdrawn,
        no_response=sum(1 for i in transcribed if i.state == NO_RESPONSE),
        transcribed=len(transcribed),
    )


def summarise_withdrawals(
    participants: Sequence[ParticipantFacts], interviews: Sequence[InterviewFacts], excluded: int
) -> WithdrawalSummary:
    gone = {p.id for p in participants if p.status == CONSENT_WITHDRAWN}
    interviewed = {i.participant_id for i in interviews if i.has_audio}
    return WithdrawalSummary(
        consent_withdrawn=len(gone),
        consent_withdrawn_after_interview=len(gone & interviewed),
        transcripts_withdrawn=sum(1 for i in interviews if i.state == WITHDRAWN),
        interviews_excluded=excluded,
    )


# -- words -----------------------------------------------------------------------------------


def count_noun(n: int, one: str, many: str | None = None) -> str:
    """ "1 interview", "2 interviews", "0 interviews"."""
    return f"{n} {one if n == 1 else (many or f'{one}s')}"


def _be(n: int) -> str:
    return "was" if n == 1 else "were"


def _join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def minutes_phrase(minutes: float) -> str:
    """One duration, to a tenth of a minute, its unit agreeing: "1 minute", "1.5 minutes"."""
    number = f"{minutes:.1f}".removesuffix(".0")
    return f"{number} {'minute' if number == '1' else 'minutes'}"


UNCOUNTABLE = ("staff", "personnel", "s")  # endings that take no plural "s"


def _plural_label(label: str, n: int) -> str:
    word = label.lower()
    return word if n == 1 or word.endswith(UNCOUNTABLE) else f"{word}s"


def _role_phrase(
    participants: Sequence[str], roles: Mapping[str, str], labels: Mapping[str, str]
) -> str:
    counts = Counter(roles[p] for p in participants)
    return _join([f"{n} {_plural_label(labels.get(role, role), n)}" for role, n in counts.items()])


# -- the methods paragraph -------------------------------------------------------------------


@dataclass(frozen=True)
class MethodsFacts:
    interviews: Sequence[InterviewFacts]  # the interviews the figures describe
    participants: Sequence[ParticipantFacts]
    durations: DurationStats
    approval: ApprovalSummary
    withdrawals: WithdrawalSummary
    role_labels: Mapping[str, str]
    interviewers: tuple[str, ...] = ()  # names from the study's settings, never a login
    sites: tuple[str, ...] = ()  # the configured order
    any_recorded: bool = True  # including interviews since withdrawn


def methods_paragraph(facts: MethodsFacts) -> str:
    """COREQ items 1 (interviewer), 12 (withdrawals), 14 (setting), 17 (repeat interviews),
    20 (field notes), 21 (duration) and 23 (transcripts returned), written from the data."""
    done = facts.interviews
    if not facts.any_recorded:
        return "No interviews have been conducted yet."
    if not done:
        return f"No interviews remain for analysis. {_withdrawals(facts.withdrawals, False)}"
    sentences = [
        _who_and_where(done, facts.interviewers, facts.sites),
        _with_whom(done, facts.participants, facts.role_labels),
        _how_long(facts.durations),
        _repeats(done),
        _field_notes(done),
        _returned(facts.approval),
        _withdrawals(facts.withdrawals),
    ]
    return " ".join(s for s in sentences if s)


def _who_and_where(
    done: Sequence[InterviewFacts], interviewers: Sequence[str], sites: Sequence[str]
) -> str:
    if not interviewers:
        who = "the interviewer"
    elif len(interviewers) == 1:
        who = interviewers[0]
    else:
        who = f"{count_noun(len(interviewers), 'interviewer')} ({_join(interviewers)})"
    dates = sorted(i.started_at[:10] for i in done if i.started_at)
    when = ""
    if dates:
        when = (
            f" on {dates[0]}" if dates[0] == dates[-1] else f" between {dates[0]} and {dates[-1]}"
        )
    present = {i.site for i in done}
    in_order = [s for s in _ordered(sites, present) if s in present]
    where = f" at {count_noun(len(in_order), 'site')} ({_join(in_order)})"
    return f"Semi-structured interviews were conducted by {who}{when}{where}."


def _with_whom(
    done: Sequence[InterviewFacts],
    participants: Sequence[ParticipantFacts],
    labels: Mapping[str, str],
) -> str:
    people = list(dict.fromkeys(i.participant_id for i in done))
    roles = {p.id: p.role for p in participants} | {i.participant_id: i.role for i in done}
    return (
        f"{count_noun(len(done), 'interview').capitalize()} {_be(len(done))} audio-recorded "
        f"with {count_noun(len(people), 'participant')} ({_role_phrase(people, roles, labels)})."
    )


def _how_long(durations: DurationStats) -> str:
    """Every figure to a tenth of a minute, so a range never mixes precisions."""
    if not durations.n or durations.mean is None:
        return ""
    if durations.n == 1:
        return f"The interview lasted {minutes_phrase(durations.mean)}."
    sd = f"SD {durations.sd:.1f}, " if durations.sd is not None else ""
    return (
        f"Interviews lasted a mean of {durations.mean:.1f} minutes ({sd}median "
        f"{durations.median:.1f}, range {durations.min:.1f}–{durations.max:.1f})."
    )


def _repeats(done: Sequence[InterviewFacts]) -> str:
    waves_by_person: dict[str, set[str]] = {}
    for i in done:
        waves_by_person.setdefault(i.participant_id, set()).add(i.wave)
    repeat = sum(1 for waves in waves_by_person.values() if len(waves) > 1)
    if not repeat:
        return "No repeat interviews were carried out."
    waves = list(dict.fromkeys(i.wave for i in done))
    return (
        f"{count_noun(repeat, 'participant').capitalize()} "
        f"{_be(repeat)} interviewed more than once ({_join(waves)})."
    )


def _field_notes(done: Sequence[InterviewFacts]) -> str:
    with_notes = sum(1 for i in done if i.notes)
    if not with_notes:
        what = "the interview" if len(done) == 1 else "the interviews"
        return f"No field notes were taken during {what}."
    if len(done) == 1:
        return "Field notes were taken during the interview."
    return f"Field notes were taken during {with_notes} of {len(done)} interviews."


def _returned(approval: ApprovalSummary) -> str:
    if not approval.transcribed:
        return ""
    if not approval.sent:
        return "Transcripts have not been returned to participants."
    parts = [
        f"Transcripts were returned to participants for comment and correction "
        f"({approval.sent} of {approval.transcribed})"
    ]
    outcome = [f"{approval.approved} approved"]
    if approval.approved_with_changes:
        outcome.append(f"{approval.approved_with_changes} of them with changes")
    if approval.no_response:
        outcome.append(f"{approval.no_response} did not respond")
    return f"{parts[0]}; {', '.join(outcome)}."


def _withdrawals(w: WithdrawalSummary, figures_above: bool = True) -> str:
    parts = []
    if w.consent_withdrawn:
        after = w.consent_withdrawn_after_interview
        when = ""
        if after == w.consent_withdrawn:
            when = " after being interviewed"
        elif after:
            when = f" ({after} after being interviewed)"
        parts.append(f"{count_noun(w.consent_withdrawn, 'participant')} withdrew consent{when}")
    if w.transcripts_withdrawn:
        n = w.transcripts_withdrawn
        parts.append(
            f"{count_noun(n, 'transcript')} {_be(n)} withdrawn by the participant on review"
        )
    if not parts:
        return "No participant withdrew."
    sentence = _join(parts)
    if w.interviews_excluded and figures_above:
        n = w.interviews_excluded
        sentence += (
            f"; {'this interview is' if n == 1 else f'these {n} interviews are'} "
            "not included in the figures above"
        )
    return sentence[0].upper() + sentence[1:] + "."


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
    if report.without_audio:
        lines.append(
            f"  ({count_noun(report.without_audio, 'interview')} ended with no audio: not counted)"
        )
    lines += ["", "Durations (minutes)", f"  overall   {report.durations.describe()}"]
    lines += [f"  {role:<10}{s.describe()}" for role, s in report.durations_by_role.items()]
    lines += ["", "Guarded terms"]
    for t in report.terms:
        lines.append(
            f"  {t.term}: raised by the participant in {t.raised_in} of "
            f"{count_noun(t.transcripts, 'transcript')}, followed up in {t.followed_up_in}; "
            f"{count_noun(t.breaches, 'breach', 'breaches')} in "
            f"{count_noun(t.transcripts_with_breaches, 'transcript')}"
        )
    if not report.terms:
        lines.append("  no transcripts yet")
    a = report.approval
    lines += [
        "",
        "Approval",
        f"  sent to participants {a.sent} of {a.transcribed}, returned {a.returned}, "
        f"approved {a.approved} ({a.approved_with_changes} with changes), edited by the "
        f"participant {a.edited_by_participant}, no response {a.no_response}",
    ]
    if a.states:
        lines.append("  now: " + ", ".join(f"{n} {s}" for s, n in sorted(a.states.items())))
    lines += ["", "Withdrawals", f"  {report.withdrawals.describe()}"]
    lines += ["", "Methods", f"  {report.methods}"]
    return lines
