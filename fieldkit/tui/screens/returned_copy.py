"""The returned-copy screen: what was sent and what came back, side by side, turn by turn, with
a one-line summary of the changes. `n`/`p` move between changes; `s` stores the copy as the
participant's revision; Escape leaves without storing anything."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Header, Static

from fieldkit.errors import FieldkitError
from fieldkit.services.approval.copies import ReturnedCopy, accept_returned
from fieldkit.tui.hints import in_app_words
from fieldkit.tui.screens.base import FieldkitScreen, PaletteEntry
from fieldkit.tui.widgets.footer import KeysFooter
from fieldkit.tui.widgets.review_diff import SideBySideDiff

LEGEND = "Deleted: red, struck through (left) · added: green, underlined (right)"


class ReturnedCopyScreen(FieldkitScreen):
    DEFAULT_CSS = """
    ReturnedCopyScreen #returned-title { padding: 0 1; text-style: bold; }
    ReturnedCopyScreen #returned-summary { padding: 0 1; color: $text-warning; }
    ReturnedCopyScreen #returned-legend { padding: 0 1; color: $text-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "store", "Store", tooltip="Store it as the participant's revision"),
        Binding("y", "store", show=False),  # the earlier "store it? y" answer still works
        Binding("n", "next_change", "Next change"),
        Binding("p", "previous_change", "Previous change"),
        Binding("escape", "cancel", "Cancel", tooltip="Go back without storing anything"),
        Binding("q", "app.quit", "Quit", show=False, tooltip="Quit fieldkit (nothing is stored)"),
    ]
    PALETTE = (
        PaletteEntry("Store the returned copy", "As the participant's revision", "store"),
        PaletteEntry("Next change", "Show the next turn the participant changed", "next_change"),
        PaletteEntry("Previous change", "Show the turn changed before", "previous_change"),
        PaletteEntry("Cancel", "Go back; nothing is stored", "cancel"),
    )

    def __init__(self, returned: ReturnedCopy) -> None:
        super().__init__()
        self.returned = returned
        self.current = 0  # the change shown

    def compose(self) -> ComposeResult:
        interview, send = self.returned.interview, self.returned.send
        self.title = f"Returned copy of {interview.participant_id} ({interview.wave})"
        yield Header()
        yield Static(
            f"Sent {send.sent_at[:10]}: {send.file_name or 'a copy'} · came back: "
            f"{self.returned.path.name}",
            id="returned-title",
            markup=False,
        )
        yield Static(self.summary_line(), id="returned-summary", markup=False)
        yield Static(LEGEND, id="returned-legend", markup=False)
        yield SideBySideDiff(self.returned.turns, id="returned-diff")
        yield KeysFooter()

    @property
    def diff(self) -> SideBySideDiff:
        return self.query_one(SideBySideDiff)

    @property
    def change_count(self) -> int:
        return self.returned.changed_turns

    def summary_line(self) -> str:
        summary = self.returned.describe()
        summary = summary[0].upper() + summary[1:]
        if self.change_count > 1:
            summary += f" · change {self.current + 1} of {self.change_count}"
        return summary

    def on_mount(self) -> None:
        self.diff.body.focus()
        self.call_after_refresh(self.show_change)

    def show_change(self) -> None:
        self.diff.go_to(self.current)
        self.query_one("#returned-summary", Static).update(self.summary_line())

    def action_next_change(self) -> None:
        self.move(+1)

    def action_previous_change(self) -> None:
        self.move(-1)

    def move(self, step: int) -> None:
        if not self.change_count:
            self.notify("The participant changed nothing.")
            return
        self.current = (self.current + step) % self.change_count
        self.show_change()

    def action_store(self) -> None:
        interview = self.returned.interview
        revision: int | None = None
        with self.user_errors():  # a full disk, a damaged database
            try:
                revision = accept_returned(self.study, self.returned)
            except FieldkitError as error:  # e.g. decided meanwhile in another terminal
                self.notify(in_app_words(error), severity="error", timeout=8)
                return
        if revision is None:
            return
        how = "as" if self.returned.summary.changed else "with no changes, as"
        self.notify(
            f"Stored the copy {interview.participant_id} returned ({interview.wave}) {how} "
            f"revision {revision}. Next: record the decision (d)."
        )
        self.dismiss()

    def action_cancel(self) -> None:
        self.notify("Nothing stored: the returned copy was left as it is.")
        self.dismiss()
