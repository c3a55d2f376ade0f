"""One banner per guarded term: do not say it → ask the follow-up → followed up."""

from __future__ import annotations

import re

from textual.widgets import Static

from fieldkit.core.guard import GuardTracker, TermState

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


def banner_id(term: str) -> str:
    return "guard-" + re.sub(r"\W+", "-", term.casefold()).strip("-")


class GuardBanner(Static):
    def __init__(self, term: str) -> None:
        super().__init__("", id=banner_id(term), classes="guard-banner", markup=False)
        self.term = term
        self.state = TermState.LOCKED

    def show(self, tracker: GuardTracker) -> None:
        self.state = tracker.state(self.term)
        for state, css_class in STATE_CLASSES.items():
            self.set_class(state is self.state, css_class)
        text = f"{ICONS[self.state]} {tracker.banner(self.term)}"
        breaches = tracker.breaches(self.term)
        if breaches:
            text += f" · said by the interviewer {breaches}×"
        self.update(text + KEY_HINTS[self.state])
