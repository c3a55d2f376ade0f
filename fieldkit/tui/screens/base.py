"""What every fieldkit screen shares: the study, user errors as notifications, palette entries."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from textual.screen import Screen

from fieldkit.errors import FieldkitError
from fieldkit.services.study import Study, explain_failure
from fieldkit.tui.hints import as_sentence

if TYPE_CHECKING:
    from fieldkit.tui.app import FieldkitApp


class PaletteEntry(NamedTuple):
    """A command-palette line that runs one of the screen's actions."""

    title: str
    help: str
    action: str


class FieldkitScreen(Screen[None]):
    # The same actions as the screen's keys, for the command palette (Ctrl+P).
    PALETTE: ClassVar[tuple[PaletteEntry, ...]] = ()
    # Actions whose keys the footer shows only when the terminal is wide (widgets/footer.py):
    # below 100 columns their place goes to the screen's essential keys.
    FOOTER_WIDE_ONLY: ClassVar[frozenset[str]] = frozenset()

    @property
    def fieldkit_app(self) -> FieldkitApp:
        return self.app  # type: ignore[return-value]

    @property
    def study(self) -> Study:
        return self.fieldkit_app.study

    @contextmanager
    def user_errors(self) -> Iterator[None]:
        """A mistake the user can fix becomes one error notification, never a crash."""
        try:
            yield
        except FieldkitError as exc:
            self.notify(as_sentence(exc.one_line()), severity="error", timeout=8)
        except (sqlite3.Error, OSError) as exc:  # a full disk must not take the interview down
            explained = explain_failure(exc, self.study.root)
            if explained is None:
                raise
            self.notify(as_sentence(explained.one_line()), severity="error", timeout=12)
