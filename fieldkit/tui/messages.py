"""Messages between workers and screens. Workers post them; handlers change state (GUIDE.md)."""

from __future__ import annotations

from textual.message import Message

from fieldkit.core.guard import GuardEvent


class GuardEventDetected(Message):
    """A guard event found off the UI thread (the live guard of a later issue).

    Post it to the interview screen; its handler stores the event and refreshes the banners."""

    def __init__(self, event: GuardEvent) -> None:
        super().__init__()
        self.event = event


class InterviewChanged(Message):
    """Something in the interview session changed: the screen's widgets should redraw."""
