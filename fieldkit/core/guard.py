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
# The follow-up rule (see `looks_like_follow_up`). Words are matched on folded, lower-cased text.
_LEAD_INS = frozenset(
    {"so", "and", "okay", "ok", "well", "now", "right", "then", "but", "um", "uh"}
)
_QUESTION_WORDS = frozenset({"what", "how", "why", "when", "where", "who", "which"})
_AUXILIARIES = frozenset(
    {"do", "does", "did", "is", "are", "was", "were", "can", "could", "would", "will", "should"}
    | {"has", "have", "had", "might", "may"}
)
_SUBJECTS = frozenset({"you", "it", "that", "this", "they", "we", "he", "she", "there", "i"})
_REQUESTS = (  # a question asked as a request, often without a question mark
    "tell me",
    "say more",
    "talk about",
    "talk me through",
    "describe",
    "explain",
    "i'd like to hear",
    "i'd like to know",
    "i wonder",
    "help me understand",
)
# Cues that the question asks what the term is to the participant, not something else that
# happens to use the word ("did you recover your bag?").
_ASKING_ABOUT = re.compile(
    r"\b(?:mean|means|meaning|meant|tell me more|say more|what is|what's|what does|"
    r"what would you say|what do you think|what comes to mind|how would you|how do you see|"
    r"describe|explain|define|in your own words|understand by|look like|looks like)\b"
)
# Words by which a question points back at the sentence before it ("… recovery. What does
# that mean to you?").
_BACK_REFERENCES = frozenset({"that", "it", "this", "those", "word", "term"})


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
    return {w for w in _words(text) if len(w) > 2 and w not in _STOPWORDS}


def _words(text: str) -> list[str]:
    """The words of `text`, folded and lower-cased ("What’s" → "what's")."""
    return re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", fold_text(text).lower())


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.findall(r"[^.?!]+[.?!]*", text) if s.strip()]


def _is_question(sentence: str) -> bool:
    """Asked, not stated: a question mark, a request ("tell me …"), a question word followed by
    a verb ("what does …", "how would …") or a verb first ("do you …"). "What you said about
    it is interesting." is a statement."""
    if sentence.rstrip().endswith("?"):
        return True
    words = _words(sentence)
    while words and words[0] in _LEAD_INS:
        words = words[1:]
    if not words:
        return False
    opening = " ".join(words)
    if any(opening == r or opening.startswith(r + " ") for r in _REQUESTS):
        return True
    first, second = words[0], words[1] if len(words) > 1 else ""
    if first in _QUESTION_WORDS or first.split("'")[0] in _QUESTION_WORDS:
        return second in _AUXILIARIES or "'" in first  # "what does", "what's"
    return first in _AUXILIARIES and second in _SUBJECTS


def _close_to_probe(text: str, guarded: GuardedTerm, matcher: TermMatcher) -> bool:
    """Shares most (≥ 60 %) of the follow-up probe's content words besides the term itself."""
    probe_words = _content_words(guarded.follow_up, matcher, guarded.term) - {guarded.term}
    if not probe_words:
        return False
    shared = probe_words & _content_words(text, matcher, guarded.term)
    return len(shared) >= -(-len(probe_words) * 3 // 5)  # ceil(60 %)


def looks_like_follow_up(text: str, guarded: GuardedTerm, matcher: TermMatcher) -> bool:
    """Does this interviewer turn ask the follow-up probe for `guarded`?

    Only a question counts (see `_is_question`), and only one that
    1. says the term, in any listed form — in the question itself, or in the sentence just
       before it when the question points back at it ("You said recovery. What does that mean to
       you?"); a question that never says the term ("… the garden. What does that mean to you?")
       does not count, however close to the probe; and
    2. asks about it: it has a cue such as "mean", "tell me more", "what is", "describe", or it
       is close to the schedule's follow-up text (most of the probe's other content words).
    So "Did you recover your bag?" (no cue, not like the probe) and "What you said about
    recovery is interesting." (not a question) do not count.
    """
    sentences = _sentences(fold_text(text))
    for index, sentence in enumerate(sentences):
        if not _is_question(sentence):
            continue
        asked = sentence
        if not _says(sentence, matcher, guarded.term):
            before = sentences[index - 1] if index else ""
            if not (_says(before, matcher, guarded.term) and _points_back(sentence)):
                continue
            asked = f"{before} {sentence}"
        cue = _ASKING_ABOUT.search(" ".join(_words(sentence)))
        if cue or _close_to_probe(asked, guarded, matcher):
            return True
    return False


def _says(sentence: str, matcher: TermMatcher, term: str) -> bool:
    return any(match.term == term for match in matcher.find(sentence))


def _points_back(sentence: str) -> bool:
    return not _BACK_REFERENCES.isdisjoint(_words(sentence))


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
