"""De-identification of approved transcripts: the study's identifier list, suggestions the
reviewer accepts or rejects, and the de-identified revision with its key.

The flow (CLI `fieldkit deidentify`, and the identifiers screen in the app):
1. `start_review` finds identifiers in the latest approved text of an interview (the latest
   revision that is not itself de-identified) and stores them as suggestions, keeping decisions
   already taken on the same spans;
2. `decide` (one at a time, stored as taken: the app) or `accept_all`;
3. `finish` records any decisions passed to it (the CLI's answers, a decisions file) and saves
   the text with the accepted replacements as a new revision of kind "deidentified", adding the
   placeholders to the interview's key (placeholder → original), all in one transaction.
   The key lives in the study database only: exports read revisions, never the key.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from fieldkit.core.deid import (
    LIST_CATEGORIES,
    Category,
    Identifier,
    apply,
    identifier_form,
    key_of,
    remaining_identifiers,
    suggest,
)
from fieldkit.core.models import Segment
from fieldkit.core.wording import counted
from fieldkit.core.workflow import TranscriptState, is_ready_for_analysis, situation
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services.revisions import save_revision
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import find_interview
from fieldkit.store.deid_repo import (
    DeidKeys,
    IdentifierRow,
    Identifiers,
    KeyEntry,
    SuggestionRow,
    Suggestions,
)
from fieldkit.store.repo import InterviewRow, Interviews, TranscriptRow, Transcripts

DEIDENTIFIED = "deidentified"
DEMO_IDENTIFIERS = (("Diane", Category.PERSON), ("Riverton", Category.PLACE))
MIN_IDENTIFIER_LENGTH = 2  # a one-letter "identifier" would replace every "I" and "a"


# -- the approval state (issue 5 owns it; this is the one place that reads it) ----------------


def approval_state_of(study: Study, interview_id: int) -> TranscriptState:
    from fieldkit.services.approval import approval_state

    return approval_state(study, interview_id)


def approval_states_seen(study: Study, interview_id: int) -> set[str]:
    """Every approval state the transcript has been in (the report counts returned, edited)."""
    from fieldkit.services.approval import states_seen

    return states_seen(study, interview_id)


def no_response_counts_as_approval(study: Study) -> bool:
    return study.config.approval.no_response_counts_as_approval


def ready_for_analysis(study: Study, interview: InterviewRow) -> bool:
    """Approved (or, where the study's policy says so, unanswered): may be de-identified."""
    if Transcripts(study.db).revision(interview.id) is None:
        return False
    state = approval_state_of(study, interview.id)
    return is_ready_for_analysis(state, no_response_counts_as_approval(study))


# Why a transcript in each state is not de-identified yet, in plain words: (what, what to do).
_NOT_YET: dict[TranscriptState, tuple[str, str]] = {
    TranscriptState.TRANSCRIBING: (
        "is still being transcribed",
        "de-identify it once it is reviewed and approved",
    ),
    TranscriptState.NEEDS_REVIEW: (
        "still needs review",
        "review it and send it to the participant; de-identify it once it is approved",
    ),
    TranscriptState.REVIEWED: (
        "is reviewed but not yet sent to the participant",
        "send it; de-identify it once it is approved",
    ),
    TranscriptState.SENT: (
        "is sent to the participant",
        "de-identify it once it is approved",
    ),
    TranscriptState.RETURNED: (
        "came back from the participant and waits for a decision",
        "record the decision (approved, or approved with changes) first",
    ),
    TranscriptState.WITHDRAWN: (
        "is withdrawn",
        "a withdrawn transcript is never de-identified or analysed",
    ),
    TranscriptState.NO_RESPONSE: (
        "had no response from the participant",
        "this study does not count no response as approval "
        "(no_response_counts_as_approval in study.toml)",
    ),
}


def not_ready(study: Study, interview: InterviewRow) -> WorkflowError | None:
    """Why this transcript cannot be de-identified, in plain words; None when it can."""
    if ready_for_analysis(study, interview):
        return None
    pid = interview.participant_id
    if Transcripts(study.db).revision(interview.id) is None:
        return WorkflowError(
            f"{pid} has no transcript of the {interview.wave} interview yet",
            f"fieldkit transcribe {pid}",
        )
    state = approval_state_of(study, interview.id)
    what, hint = _NOT_YET.get(state, (situation(state), "only approved ones are de-identified"))
    return WorkflowError(f"{pid}'s transcript ({interview.wave}) {what}", hint)


def require_ready(study: Study, interview: InterviewRow) -> None:
    problem = not_ready(study, interview)
    if problem is not None:
        raise problem


@dataclass(frozen=True)
class TranscriptChoice:
    """One of a participant's interviews, as the app offers it for de-identification."""

    interview: InterviewRow
    state: str  # "approved", "sent to participant" … or "no transcript yet"
    ready: bool


def transcripts_to_deidentify(study: Study, participant_id: str) -> list[TranscriptChoice]:
    """Every interview of the participant (oldest first), with its transcript's state."""
    choices = []
    for interview in Interviews(study.db).for_participant(participant_id):
        has_text = Transcripts(study.db).revision(interview.id) is not None
        state = approval_state_of(study, interview.id).value if has_text else "no transcript yet"
        choices.append(TranscriptChoice(interview, state, ready_for_analysis(study, interview)))
    return choices


def analysis_interviews(study: Study) -> list[InterviewRow]:
    """Every interview whose transcript is ready for analysis, in interview order."""
    return [i for i in Interviews(study.db).all() if ready_for_analysis(study, i)]


# -- the identifier list ---------------------------------------------------------------------


def list_identifiers(study: Study) -> list[IdentifierRow]:
    return Identifiers(study.db).all()


def parse_category(category: str) -> Category:
    wanted = category.strip().lower()
    if wanted == "organization":  # both spellings are common
        wanted = "organisation"
    for choice in LIST_CATEGORIES:
        if choice.value == wanted:
            return choice
    names = "|".join(c.value for c in LIST_CATEGORIES)
    raise FieldkitError(f"unknown identifier category {category!r}", f"choose one of {names}")


def add_identifier(study: Study, text: str, category: str) -> IdentifierRow:
    cleaned = " ".join(text.split())
    if len(cleaned) < MIN_IDENTIFIER_LENGTH:
        raise FieldkitError(
            f"identifier {text!r} is too short",
            f"give at least {MIN_IDENTIFIER_LENGTH} characters, e.g. a full first name",
        )
    chosen = parse_category(category)
    repo = Identifiers(study.db)
    existing = _listed_as(study, cleaned)
    if existing is not None:
        raise FieldkitError(
            f"{existing.text!r} is already on the identifier list ({existing.category.value})",
            "nothing changed",
        )
    with study.transaction():
        repo.add(cleaned, chosen, study.actor, now_iso())
        # The identifier itself is sensitive: the audit log records only that one was added.
        study.audit("identifier added", category=chosen.value)
    row = repo.find(cleaned)
    assert row is not None
    return row


def _listed_as(study: Study, text: str) -> IdentifierRow | None:
    """The list entry that already names `text`, however it is written ("Zoë" for "Zoe")."""
    wanted = identifier_form(text)
    return next((r for r in list_identifiers(study) if identifier_form(r.text) == wanted), None)


def remove_identifier(study: Study, text: str) -> IdentifierRow:
    repo = Identifiers(study.db)
    cleaned = " ".join(text.split())
    row = repo.find(cleaned) or _listed_as(study, cleaned)  # "Zoe" removes "Zoë"
    if row is None:
        raise FieldkitError(
            f"{text!r} is not on the identifier list", "see fieldkit identifiers list"
        )
    with study.transaction():
        repo.delete(row.id)
        study.audit("identifier removed", category=row.category.value)
    return row


def add_demo_identifiers(study: Study) -> None:
    """The names in the demo interview ("Diane", "Riverton"), for `fieldkit demo`."""
    for text, category in DEMO_IDENTIFIERS:
        if Identifiers(study.db).find(text) is None:
            add_identifier(study, text, category.value)


def _identifiers(study: Study) -> list[Identifier]:
    return [row.identifier for row in list_identifiers(study)]


# -- reviewing suggestions -------------------------------------------------------------------


@dataclass(frozen=True)
class DeidReview:
    """Suggestions for one interview's approved text, with the decisions taken so far."""

    interview: InterviewRow
    source: TranscriptRow  # the revision being de-identified
    segments: list[Segment]
    items: list[SuggestionRow]

    @property
    def pending(self) -> list[SuggestionRow]:
        return [i for i in self.items if i.decision == "pending"]

    @property
    def accepted(self) -> list[SuggestionRow]:
        return [i for i in self.items if i.decision == "accepted"]

    @property
    def rejected(self) -> list[SuggestionRow]:
        return [i for i in self.items if i.decision == "rejected"]


@dataclass(frozen=True)
class Decision:
    """A reviewer's answer to one suggestion, recorded when the revision is saved."""

    suggestion_id: int
    accept: bool
    placeholder: str | None = None  # the reviewer's own placeholder for a replacement


@dataclass(frozen=True)
class DeidResult:
    revision: TranscriptRow
    replaced: int
    rejected: int
    by_category: dict[str, int]


def approved_text(study: Study, interview: InterviewRow) -> TranscriptRow:
    """The latest revision that is not itself a de-identified one."""
    rows = [r for r in Transcripts(study.db).for_interview(interview.id) if r.kind != DEIDENTIFIED]
    if not rows:
        raise WorkflowError(
            f"interview {interview.participant_id} ({interview.wave}) has no transcript yet",
            f"fieldkit transcribe {interview.participant_id}",
        )
    return rows[-1]


def start_review(study: Study, participant_id: str, wave: str | None = None) -> DeidReview:
    interview = find_interview(study, participant_id, wave)
    return start_review_of(study, interview)


def start_review_of(study: Study, interview: InterviewRow) -> DeidReview:
    require_ready(study, interview)
    source = approved_text(study, interview)
    segments = Transcripts(study.db).segments(source.id)
    key = DeidKeys(study.db).entity_map(interview.id)
    found = suggest(segments, _identifiers(study), existing_key=key)
    with study.transaction():
        Suggestions(study.db).replace_pending(interview.id, source.id, found)
    return _reload(study, interview, source, segments)


def _reload(
    study: Study, interview: InterviewRow, source: TranscriptRow, segments: list[Segment]
) -> DeidReview:
    items = Suggestions(study.db).for_transcript(source.id)
    return DeidReview(interview, source, segments, items)


def reload_review(study: Study, review: DeidReview) -> DeidReview:
    return _reload(study, review.interview, review.source, review.segments)


def decide(study: Study, review: DeidReview, suggestion_id: int, accept: bool) -> DeidReview:
    if suggestion_id not in {i.id for i in review.items}:
        raise FieldkitError(f"no suggestion {suggestion_id} in this review", "start it again")
    decision = "accepted" if accept else "rejected"
    Suggestions(study.db).decide(suggestion_id, decision, study.actor, now_iso())
    return reload_review(study, review)


def accept_all(study: Study, review: DeidReview) -> DeidReview:
    with study.transaction():
        for item in review.pending:
            Suggestions(study.db).decide(item.id, "accepted", study.actor, now_iso())
    return reload_review(study, review)


def finish(study: Study, review: DeidReview, decisions: Sequence[Decision] = ()) -> DeidResult:
    """Record `decisions`, save the de-identified revision and extend the key, in one
    transaction: if anything is refused (a suggestion left undecided, a placeholder that clashes),
    nothing is stored. Every suggestion must be decided by then."""
    with study.transaction():
        require_ready(study, review.interview)  # a withdrawal may have come in meanwhile
        review = _record(study, reload_review(study, review), decisions)
        if review.pending:
            raise FieldkitError(
                f"{counted(len(review.pending), 'suggestion')} for "
                f"{review.interview.participant_id} "
                f"{'is' if len(review.pending) == 1 else 'are'} not decided yet",
                "accept or reject each one (or use --accept-all)",
            )
        return _save_deidentified(study, review)


def _record(study: Study, review: DeidReview, decisions: Sequence[Decision]) -> DeidReview:
    """Store the decisions (inside the caller's transaction) after checking them all."""
    if not decisions:
        return review
    known = {item.id for item in review.items}
    if any(d.suggestion_id not in known for d in decisions):
        raise FieldkitError(
            f"the suggestions for {review.interview.participant_id} changed while they were "
            "being decided (another window or terminal?)",
            "start again; nothing was stored",
        )
    check_placeholders(study, review, decisions)
    repo = Suggestions(study.db)
    by_id = {item.id: item for item in review.items}
    for d in decisions:
        own = d.placeholder if d.accept and d.placeholder else None
        if own == by_id[d.suggestion_id].suggestion.placeholder:
            own = None
        decision = "accepted" if d.accept else "rejected"
        repo.decide(d.suggestion_id, decision, study.actor, now_iso(), placeholder=own)
    return reload_review(study, review)


def _save_deidentified(study: Study, review: DeidReview) -> DeidResult:
    """The revision, the key and the audit entry (inside the caller's transaction)."""
    accepted = [i.suggestion for i in review.accepted]
    segments = apply(review.segments, accepted)
    counts = Counter(s.category.value for s in accepted)
    entries = [
        KeyEntry(placeholder, category, entity, tuple(forms))
        for placeholder, (category, entity, forms) in key_of(accepted).items()
    ]
    summary = (
        f"de-identified revision {review.source.revision}: {counted(len(accepted), 'replacement')}"
    )
    row = save_revision(study, review.interview, segments, kind=DEIDENTIFIED, summary=summary)
    DeidKeys(study.db).merge(review.interview.id, entries, now_iso())
    study.audit(
        "de-identified",
        review.interview.participant_id,
        review.interview.id,
        source_revision=review.source.revision,
        revision=row.revision,
        replaced=len(accepted),
        rejected=len(review.rejected),
        by_category=dict(counts),
    )
    return DeidResult(row, len(accepted), len(review.rejected), dict(counts))


# A reviewer's own placeholder: square brackets around a short label, e.g. "[NURSE 1]".
OWN_PLACEHOLDER = re.compile(r"\[[^\[\]\n]{1,40}\]")


def check_placeholders(study: Study, review: DeidReview, decisions: Sequence[Decision]) -> None:
    """The placeholders the decisions give must keep the key one-to-one: every replaced
    mention of an entity gets the same placeholder, no two entities share one, and an entity
    the key already knows keeps its placeholder."""
    by_id = {item.id: item.suggestion for item in review.items}
    decided = {d.suggestion_id: d for d in decisions}
    chosen: dict[str, tuple[str, str]] = {}  # entity → (placeholder, as written)
    for item in review.items:
        d = decided.get(item.id)
        accept = d.accept if d is not None else item.decision == "accepted"
        if not accept:
            continue
        s = by_id[item.id]
        placeholder = (d.placeholder if d is not None and d.placeholder else None) or s.placeholder
        if placeholder != s.placeholder:
            _check_own_placeholder(placeholder, s.original)
        earlier = chosen.setdefault(s.entity, (placeholder, s.original))
        if earlier[0] != placeholder:
            raise FieldkitError(
                f"{s.original!r} is replaced by both {earlier[0]} and {placeholder}",
                "give every mention of it the same placeholder; nothing was stored",
            )
    key = {k.entity: k.placeholder for k in DeidKeys(study.db).for_interview(review.interview.id)}
    owners = {placeholder: entity for entity, placeholder in key.items()}
    users = Counter(placeholder for placeholder, _ in chosen.values())
    for entity, (placeholder, original) in chosen.items():
        if entity in key and key[entity] != placeholder:
            raise FieldkitError(
                f"{original!r} was replaced by {key[entity]} before in this transcript",
                f"keep {key[entity]} for it (placeholders stay the same across runs); "
                "nothing was stored",
            )
        if owners.get(placeholder, entity) != entity or users[placeholder] > 1:
            raise FieldkitError(
                f"{placeholder} stands for something else in this transcript, not {original!r}",
                "give it a placeholder of its own; nothing was stored",
            )


def _check_own_placeholder(placeholder: str, original: str) -> None:
    if not OWN_PLACEHOLDER.fullmatch(placeholder):
        raise FieldkitError(
            f"placeholder {placeholder!r} for {original!r} is not a label in square brackets",
            'write it like "[NURSE 1]" (at most 40 characters); nothing was stored',
        )
    if identifier_form(original) in identifier_form(placeholder):
        raise FieldkitError(
            f"placeholder {placeholder!r} still names {original!r}",
            "choose a placeholder that does not give the identifier away; nothing was stored",
        )


def deidentify(
    study: Study, participant_id: str, wave: str | None = None, accept_everything: bool = True
) -> DeidResult:
    """The whole flow in one call (`fieldkit deidentify PID --accept-all`)."""
    review = start_review(study, participant_id, wave)
    if accept_everything:
        review = accept_all(study, review)
    return finish(study, review)


def latest_deidentified(study: Study, interview: InterviewRow) -> TranscriptRow | None:
    rows = [r for r in Transcripts(study.db).for_interview(interview.id) if r.kind == DEIDENTIFIED]
    return rows[-1] if rows else None


def leftover_identifiers(study: Study, segments: list[Segment]) -> list[str]:
    """Listed identifiers still in a de-identified text (added to the list after it was made,
    or rejected by the reviewer): the export warns about them. Matched as de-identification
    matches (accents, apostrophes, dashes and periods aside), so "Siobhan" left in the text is
    found when the list says "Siobhán"."""
    text = "\n".join(s.text for s in segments)
    return remaining_identifiers(text, _identifiers(study))
