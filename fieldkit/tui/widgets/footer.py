"""The footer of every fieldkit screen: its keys, fitted to the terminal's width.

From WIDE_FROM columns on it is Textual's footer as it is. Narrower, it is compact (one space
between keys), and leaves out the command-palette key (Ctrl+P still works, and every help overlay
lists it) and the keys a screen names in FOOTER_WIDE_ONLY (they stay in its help overlay), so that
each screen's essential keys fit in 80 columns."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

WIDE_FROM = 100


class KeysFooter(Footer):
    def __init__(self) -> None:
        super().__init__()
        self.narrow: bool | None = None  # as last composed

    def compose(self) -> ComposeResult:
        self.narrow = self.app.size.width < WIDE_FROM
        self.set_reactive(Footer.compact, self.narrow)
        self.set_class(self.narrow, "-compact")
        self.set_reactive(Footer.show_command_palette, not self.narrow)
        hidden = wide_only(self.screen) if self.narrow else frozenset()
        for widget in super().compose():
            if isinstance(widget, FooterKey) and widget.action in hidden:
                continue
            yield widget

    def on_resize(self) -> None:
        if self.narrow is not None and self.narrow != (self.app.size.width < WIDE_FROM):
            self.refresh(recompose=True)


def wide_only(screen: object) -> frozenset[str]:
    """The actions whose keys the screen shows in the footer only when there is room."""
    actions = getattr(screen, "FOOTER_WIDE_ONLY", frozenset())
    return frozenset(actions)
