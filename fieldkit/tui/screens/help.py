"""The keys of the screen the user came from, titled with that screen's name ("Keys — Approval
queue"), and a short note where the screen needs one (the guarded-term rule while
interviewing, the approval steps on the approval queue)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

GUARD_RULE = (
    "Guarded terms (e.g. recovery): never say one before the participant does. Press r when "
    "the participant raises it; the banner then shows the follow-up probe to ask (u once asked)."
)
APPROVAL_STEPS = (
    "The steps: needs review → reviewed (r) → sent to the participant (s) → returned (v) → "
    "approved, approved with changes or withdrawn (d). No response is recorded with d once the "
    "reply deadline has passed."
)

# Each screen's name as the user knows it, by class name (a screen may instead set HELP_TITLE).
SCREEN_TITLES: dict[str, str] = {
    "QueueScreen": "Interview queue",
    "InterviewScreen": "Interview",
    "ApprovalQueueScreen": "Approval queue",
    "ReturnedCopyScreen": "Returned copy",
    "ReviewScreen": "Review",
    "IdentifiersScreen": "Identifier list",
    "DeidReviewScreen": "De-identification",
    "ReportScreen": "Study report",
    "SendCopyDialog": "Send the participant's copy",
    "DecideDialog": "Record the decision",
    "ExportDialog": "Export",
}
SCREEN_NOTES: dict[str, str] = {
    "QueueScreen": GUARD_RULE,
    "InterviewScreen": GUARD_RULE,
    "ApprovalQueueScreen": APPROVAL_STEPS,
}


def help_title(screen: Screen[Any]) -> str:
    """The screen's own HELP_TITLE, else its name from SCREEN_TITLES, else its class name in
    words ("WaveChoice" → "Wave choice")."""
    own = getattr(screen, "HELP_TITLE", None)
    if isinstance(own, str) and own:
        return own
    name = type(screen).__name__
    if name in SCREEN_TITLES:
        return SCREEN_TITLES[name]
    words = re.findall(r"[A-Z][a-z0-9]*|[a-z0-9]+", re.sub(r"(Screen|Dialog)$", "", name))
    return " ".join(words).capitalize() or "this screen"


def key_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """(keys, what they do) for every binding that has a description; a key that a screen
    binds over the app's binding is listed once, as the screen binds it."""
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for binding in bindings:
        if not isinstance(binding, Binding) or not binding.description:
            continue
        keys = [k.strip() for k in binding.key.split(",")]
        if all(k in seen for k in keys):
            continue
        seen.update(keys)
        shown = binding.key_display or " / ".join(keys)
        rows.append((shown, binding.tooltip or binding.description))
    return rows


def screen_help(screen: Screen[Any], app_bindings: Sequence[BindingType]) -> HelpScreen:
    """The help overlay for `screen`: its keys, then the app's."""
    rows = key_rows([*screen.BINDINGS, *app_bindings])
    return HelpScreen(help_title(screen), rows, SCREEN_NOTES.get(type(screen).__name__, ""))


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,question_mark", "close", "Close help")]

    def __init__(self, title: str, rows: list[tuple[str, str]], note: str = GUARD_RULE) -> None:
        super().__init__(classes="dialog")
        self.help_title = title
        self.rows = rows
        self.note = note

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in [*self.rows, ("ctrl+p", "Command palette (every action by name)")]:
            # Text, not markup: "[inaudible]" is what the key inserts, not a style.
            table.add_row(Text(keys), Text(what))
        with VerticalScroll(classes="dialog-box", id="help-box") as box:
            box.border_title = f"Keys — {self.help_title}"
            box.border_subtitle = "Escape closes"
            yield Static(table, id="help-keys")
            if self.note:
                yield Static(Text(self.note, style="italic"), id="help-guard")

    def action_close(self) -> None:
        self.dismiss(None)
