"""One banner per guarded term: do not say it → ask the follow-up → followed up.

When the live guard hears the interviewer say a locked term, the banner flashes to an error style
with what was said and when: a visible warning, never a sound (it would be heard on the recording
and by the participant)."""

from __future__ import annotations

import re

from textual.timer import Timer
from textual.widgets import Static

from fieldkit.core.guard import GuardEvent, GuardTracker, TermState, format_clock

STATE_CLASSES = {
    TermState.LOCKED: "-locked",
    TermState.RAISED: "-raised",
    TermState.FOLLOWED_UP: "-followed-up",
}
ICONS = {TermState.LOCKED: "⚠", TermState.RAISED: "▶", TermState.FOLLOWED_UP: "✓"}
# What the interviewer can do next, so the banner doubles as a reminder of the keys.
KEY_HINTS = {
    TermState.LOCKED: "  [r when the participant says it]",
    TermState.RAISED: "  [u once asked]",
    TermState.FOLLOWED_UP: "",
}
BREACH_SHOWN_S = 12.0  # how long the warning text stays
FLASHES = 8  # on/off steps of the flash at the start of the warning
FLASH_STEP_S = 0.4


def banner_id(term: str) -> str:
    return "guard-" + re.sub(r"\W+", "-", term.casefold()).strip("-")


def breach_text(event: GuardEvent) -> str:
    return f"you said {event.term} at {format_clock(event.at)} before the participant raised it"


class GuardBanner(Static):
    def __init__(self, term: str) -> None:
        super().__init__("", id=banner_id(term), classes="guard-banner", markup=False)
        self.term = term
        self.state = TermState.LOCKED
        self.breach: GuardEvent | None = None  # the live warning being shown, if any
        self._tracker: GuardTracker | None = None
        self._flash: Timer | None = None
        self._clear: Timer | None = None

    def show(self, tracker: GuardTracker) -> None:
        self._tracker = tracker
        self.state = tracker.state(self.term)
        for state, css_class in STATE_CLASSES.items():
            self.set_class(state is self.state, css_class)
        if self.breach is not None and self.state is TermState.LOCKED:
            self.update(f"⚠ {breach_text(self.breach)} — do not say it{KEY_HINTS[self.state]}")
            return
        text = f"{ICONS[self.state]} {tracker.banner(self.term)}"
        breaches = tracker.breaches(self.term)
        if breaches:
            text += f" · said by the interviewer {breaches}×"
        self.update(text + KEY_HINTS[self.state])

    def warn_breach(self, event: GuardEvent) -> None:
        """Flash, then keep the warning in an error style for a while."""
        self.breach = event
        self.add_class("-breach")
        for timer in (self._flash, self._clear):
            if timer is not None:
                timer.stop()
        self._flash = self.set_interval(
            FLASH_STEP_S, lambda: self.toggle_class("-flash"), repeat=FLASHES
        )
        self._clear = self.set_timer(BREACH_SHOWN_S, self.end_breach_warning)
        if self._tracker is not None:
            self.show(self._tracker)

    def end_breach_warning(self) -> None:
        self.breach = None
        self.remove_class("-breach", "-flash")
        if self._tracker is not None:
            self.show(self._tracker)
