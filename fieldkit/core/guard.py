"""The guarded-term rule: matching a term in speech, and the per-interview state of each term.

A guarded term (e.g. "recovery") must not be said by the interviewer until the participant has
introduced it. Per interview each term moves  locked → raised (by whom, when) → followed up.
The interviewer saying a locked term is a *breach*: it is recorded, and the term stays locked,
because the participant still has not introduced it.

Matching rules (shared by the schedule lint, the live guard and the transcript audit):
- case-insensitive, on word boundaries: "discovery", "recoveryx" and "recovery_plan" do not match;
- every listed form counts (the term itself plus its `forms`); nothing is stemmed automatically,
  so a schedule lists the inflections it cares about;
- a form inside a hyphenated compound counts, whichever side it is on: "recovery-oriented",
  "recovery-focused", "non-recovery", "self-recovery". Saying "non-recovery" still puts the word in
  the participant's ear, which is what the rule protects against. The match is widened to the whole
  compound so reports show what was actually said;
- possessives and curly apostrophes are tolerated ("recovery's", "recovery’s"), because an
  apostrophe is not a word character;
- a multi-word form ("peer support") matches across any run of spaces or hyphens;
- both the forms and the text are folded first (`fieldkit.core.folding`): soft hyphens and other
  invisible characters go, full-width letters become plain ones, every dash is "-" and every
  apostrophe "'", accents are dropped. So "re\u00adcovery" (with a soft hyphen) and full-width
  "ｒｅｃｏｖｅｒｙ" are "recovery". Offsets still point into the text as given.

Pure domain code: standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from fieldkit.core.folding import fold, fold_text
from fieldkit.core.models import GuardedTerm, Speaker

HYPHENS = "-"  # folded text spells every hyphen and dash so; a compound has no space around it
_JOINER = r"[\s\-]+"  # what may separate the words of a multi-word form
CONTEXT_WORDS = 6  # words either side of a use shown as its context
FOLLOW_UP_JOIN_SECONDS = 15.0  # live chunks of one interviewer question are read together

_STOPWORDS = frozenset(
    {
        "a",
        "about",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "just",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "us",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "that's",
        "it's",
        "you've",
        "you're",
        "i'm",
        "okay",
        "ok",
        "um",
        "uh",
        "yeah",
        "well",
    }
)
_QUESTION_OPENERS = (
    "what",
    "how",
    "why",
    "when",
    "where",
    "who",
    "which",
    "can",
    "could",
    "would",
    "do",
    "does",
    "did",
    "is",
    "are",
    "tell me",
    "say more",
    "talk about",
    "describe",
    "explain",
)


class TermState(StrEnum):
    LOCKED = "locked"
    RAISED = "raised"
    FOLLOWED_UP = "followed up"


class GuardEventKind(StrEnum):
    RAISED = "raised"  # the participant introduced the term: it unlocks
    BREACH = "breach"  # the interviewer said a locked term
    FOLLOWED_UP = "followed up"  # the interviewer asked the follow-up probe after the raise
    MENTION = "mention"  # any other use (unknown speaker, repeats): no change of state


@dataclass(frozen=True)
class TermMatch:
    term: str
    form: str  # the matched words, lower-cased, widened to the whole hyphenated compound
    start: int  # character offsets into the text that was searched
    end: int


@dataclass(frozen=True)
class GuardEvent:
    term: str
    kind: GuardEventKind
    speaker: Speaker
    at: float  # seconds from the start of the recording
    context: str = ""
    source: str = "live"  # "live" (live transcription) | "manual" (a key press) | "transcript"


def format_clock(seconds: float) -> str:
    """Interview time as mm:ss, or h:mm:ss from one hour on."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _form_pattern(form: str) -> str:
    """Regex for one form: literal words, any run of spaces/hyphens between them."""
    words = [w for w in re.split(_JOINER, form.strip()) if w]
    return _JOINER.join(re.escape(w) for w in words)


def _widen_to_compound(text: str, start: int, end: int) -> tuple[int, int]:
    """Grow [start, end) over hyphen-joined neighbours: "recovery" → "recovery-oriented"."""
    while start >= 2 and text[start - 1] in HYPHENS and _is_word_char(text[start - 2]):
        start -= 1
        while start > 0 and _is_word_char(text[start - 1]):
            start -= 1
    while end + 1 < len(text) and text[end] in HYPHENS and _is_word_char(text[end + 1]):
        end += 1
        while end < len(text) and _is_word_char(text[end]):
            end += 1
    return start, end


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


class TermMatcher:
    """Finds every use of the guarded terms in a piece of text."""

    def __init__(self, terms: Sequence[GuardedTerm]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for guarded in terms:
            spelled = (fold_text(f).strip().casefold() for f in (guarded.term, *guarded.forms))
            forms = {f for f in spelled if f}
            if not forms:
                continue
            # Longest first, so "recovery oriented" wins over "recovery" at the same place.
            alternatives = "|".join(_form_pattern(f) for f in sorted(forms, key=len, reverse=True))
            pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)
            self._patterns.append((guarded.term, pattern))

    def find(self, text: str) -> list[TermMatch]:
        """Every use, with offsets into `text`; the form is as folded ("recovery", not
        "re\u00adcovery")."""
        folded = fold(text)
        matches: list[TermMatch] = []
        for term, pattern in self._patterns:
            seen: set[tuple[int, int]] = set()
            for found in pattern.finditer(folded.text):
                span = _widen_to_compound(folded.text, found.start(), found.end())
                if span in seen:  # two forms inside one compound: one use
                    continue
                seen.add(span)
                form = folded.text[span[0] : span[1]].lower()
                start, end = folded.span_in_original(*span)
                matches.append(TermMatch(term=term, form=form, start=start, end=end))
        return sorted(matches, key=lambda m: (m.start, m.term))


def context_around(text: str, start: int, end: int, words: int = CONTEXT_WORDS) -> str:
    """The words around text[start:end] (`words` either side), with … where it was cut."""
    tokens = [(m.start(), m.end()) for m in re.finditer(r"\S+", text)]
    if not tokens:
        return ""
    first = next((i for i, (_, e) in enumerate(tokens) if e > start), len(tokens) - 1)
    last = max((i for i, (s, _) in enumerate(tokens) if s < end), default=first)
    low, high = max(0, first - words), min(len(tokens), last + words + 1)
    snippet = " ".join(text[s:e] for s, e in tokens[low:high])
    return ("… " if low > 0 else "") + snippet + (" …" if high < len(tokens) else "")


def _content_words(text: str, matcher: TermMatcher, term: str) -> set[str]:
    """Lower-cased words that carry meaning; any form of `term` counts as the term itself."""
    for match in reversed(matcher.find(text)):
        if match.term == term:
            text = text[: match.start] + f" {term} " + text[match.end :]
    words = re.findall(r"[^\W\d_]+(?:['’][^\W\d_]+)?", text.lower())
    return {w.replace("’", "'") for w in words if len(w) > 2 and w not in _STOPWORDS}


def _is_question_about(text: str, matcher: TermMatcher, term: str) -> bool:
    """A sentence that uses the term and reads as a question ("…?" or an opener like "what")."""
    for sentence in re.findall(r"[^.?!]+[.?!]*", text):
        if not any(m.term == term for m in matcher.find(sentence)):
            continue
        stripped = sentence.strip().lower()
        if stripped.endswith("?") or stripped.startswith(_QUESTION_OPENERS):
            return True
    return False


def looks_like_follow_up(text: str, guarded: GuardedTerm, matcher: TermMatcher) -> bool:
    """Does this interviewer utterance ask the follow-up probe for `guarded`?

    Heuristic (transcripts rarely repeat a probe word for word):
    1. it asks a question that uses the term ("so what does recovery mean to you?"), or
    2. it shares most (≥ 60 %, at least two) of the follow-up probe's content words, with any form
       of the term counting as the term — this catches the probe even when speech recognition
       garbled the term itself ("you mentioned … what does that mean to you").
    """
    if _is_question_about(text, matcher, guarded.term):
        return True
    probe_words = _content_words(guarded.follow_up, matcher, guarded.term)
    if not probe_words:
        return False
    shared = probe_words & _content_words(text, matcher, guarded.term)
    needed = max(2, -(-len(probe_words) * 3 // 5))  # ceil(60 %)
    return len(shared) >= min(needed, len(probe_words))


@dataclass
class _TermRecord:
    state: TermState = TermState.LOCKED
    raised_by: Speaker | None = None
    raised_at: float | None = None
    followed_up_at: float | None = None
    breaches: int = 0


class GuardTracker:
    """The state of every guarded term during one interview.

    Feed it speech with `observe` (live transcription) or key presses with `mark_*`; store the
    events it returns, and rebuild it after a restart with `from_events`.
    """

    def __init__(self, terms: Sequence[GuardedTerm]) -> None:
        self._terms: dict[str, GuardedTerm] = {t.term: t for t in terms}
        self._records: dict[str, _TermRecord] = {t.term: _TermRecord() for t in terms}
        self._matcher = TermMatcher(terms)
        self._events: list[GuardEvent] = []
        self._last_interviewer: tuple[str, float] | None = None

    @classmethod
    def from_events(
        cls, terms: Sequence[GuardedTerm], events: Iterable[GuardEvent]
    ) -> GuardTracker:
        tracker = cls(terms)
        for event in events:
            tracker.apply(event)
        return tracker

    @property
    def terms(self) -> tuple[str, ...]:
        return tuple(self._terms)

    @property
    def matcher(self) -> TermMatcher:
        return self._matcher

    @property
    def events(self) -> tuple[GuardEvent, ...]:
        return tuple(self._events)

    def state(self, term: str) -> TermState:
        return self._record(term).state

    def raised_by(self, term: str) -> Speaker | None:
        return self._record(term).raised_by

    def raised_at(self, term: str) -> float | None:
        return self._record(term).raised_at

    def followed_up_at(self, term: str) -> float | None:
        return self._record(term).followed_up_at

    def breaches(self, term: str) -> int:
        return self._record(term).breaches

    def is_unlocked(self, requires: Iterable[str]) -> bool:
        """True when every term in `requires` has been raised (unknown terms count as locked)."""
        return all(
            term in self._records and self._records[term].state is not TermState.LOCKED
            for term in requires
        )

    def observe(
        self, text: str, speaker: Speaker, at: float, source: str = "live"
    ) -> list[GuardEvent]:
        """Apply one utterance; returns one event per guarded term it touched.

        participant + locked term → RAISED; interviewer + locked term → BREACH (stays locked);
        interviewer asking the follow-up after the raise → FOLLOWED_UP; every other use (unknown
        speaker, repeats) → MENTION. Callers filter on `kind` for what they show.
        """
        events: list[GuardEvent] = []
        matches = {m.term: m for m in reversed(self._matcher.find(text))}  # first use per term
        for term in self._terms:
            event = self._judge(term, matches.get(term), text, speaker, at, source)
            if event is not None:
                self.apply(event)
                events.append(event)
        if speaker is Speaker.INTERVIEWER:
            self._last_interviewer = (text, at)
        return events

    def _judge(
        self,
        term: str,
        match: TermMatch | None,
        text: str,
        speaker: Speaker,
        at: float,
        source: str,
    ) -> GuardEvent | None:
        record = self._records[term]
        context = context_around(text, match.start, match.end) if match else ""
        asks_follow_up = (
            speaker is Speaker.INTERVIEWER
            and record.state is TermState.RAISED
            and self._asks_follow_up(term, text, at)
        )
        if asks_follow_up:
            return GuardEvent(term, GuardEventKind.FOLLOWED_UP, speaker, at, context, source)
        if match is None:
            return None
        kind = GuardEventKind.MENTION
        if record.state is TermState.LOCKED and speaker is Speaker.PARTICIPANT:
            kind = GuardEventKind.RAISED
        elif record.state is TermState.LOCKED and speaker is Speaker.INTERVIEWER:
            kind = GuardEventKind.BREACH
        return GuardEvent(term, kind, speaker, at, context, source)

    def _asks_follow_up(self, term: str, text: str, at: float) -> bool:
        guarded = self._terms[term]
        if looks_like_follow_up(text, guarded, self._matcher):
            return True
        # Live chunks cut questions in two ("You mentioned recovery" | "what does it mean?").
        previous = self._last_interviewer
        if previous is None:
            return False
        previous_text, previous_at = previous
        raised_at = self._records[term].raised_at or 0.0
        if previous_at < raised_at or at - previous_at > FOLLOW_UP_JOIN_SECONDS:
            return False
        return looks_like_follow_up(f"{previous_text} {text}", guarded, self._matcher)

    def mark_raised(
        self,
        term: str,
        at: float,
        by: Speaker = Speaker.PARTICIPANT,
        source: str = "manual",
    ) -> GuardEvent:
        """The interviewer says the participant raised `term` (the `r` key). Idempotent."""
        self._record(term)
        event = GuardEvent(term, GuardEventKind.RAISED, by, at, "", source)
        self.apply(event)
        return event

    def mark_followed_up(self, term: str, at: float, source: str = "manual") -> GuardEvent:
        """The interviewer says they asked the follow-up. Only legal once the term is raised."""
        if self._record(term).state is TermState.LOCKED:
            raise ValueError(f"{term!r} has not been raised, so it cannot be followed up yet")
        event = GuardEvent(term, GuardEventKind.FOLLOWED_UP, Speaker.INTERVIEWER, at, "", source)
        self.apply(event)
        return event

    def apply(self, event: GuardEvent) -> None:
        """Apply a (stored) event. Tolerant, so replaying any history never fails: events for
        terms no longer in the schedule, repeated raises and out-of-order follow-ups are kept in
        `events` but change nothing."""
        self._events.append(event)
        record = self._records.get(event.term)
        if record is None:
            return
        if event.kind is GuardEventKind.RAISED and record.state is TermState.LOCKED:
            record.state = TermState.RAISED
            record.raised_by = event.speaker
            record.raised_at = event.at
        elif event.kind is GuardEventKind.FOLLOWED_UP and record.state is TermState.RAISED:
            record.state = TermState.FOLLOWED_UP
            record.followed_up_at = event.at
        elif event.kind is GuardEventKind.BREACH:
            record.breaches += 1

    def banner(self, term: str) -> str:
        """One line for the interview screen."""
        record = self._record(term)
        if record.state is TermState.LOCKED:
            return f"{term} — not raised by the participant: do not say it"
        if record.state is TermState.FOLLOWED_UP:
            return f"{term} — followed up"
        who = record.raised_by.value if record.raised_by else "participant"
        when = format_clock(record.raised_at or 0.0)
        return f"{term} — raised by the {who} at {when} · ask: {self._terms[term].follow_up}"

    def _record(self, term: str) -> _TermRecord:
        try:
            return self._records[term]
        except KeyError:
            known = ", ".join(self._records) or "none"
            raise KeyError(f"unknown guarded term {term!r} (known: {known})") from None
