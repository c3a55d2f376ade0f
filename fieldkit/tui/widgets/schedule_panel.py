"""The current topic and question, its probes and the interviewer's instructions."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from fieldkit.core.schedule import Probe, Question, Topic

Unlocked = Callable[[tuple[str, ...]], bool]


def probe_id(probe: Probe) -> str:
    return f"probe-{probe.id}"


def unwrap(text: str) -> str:
    """YAML block text keeps the author's line breaks; let the terminal wrap it instead."""
    return " ".join(text.split())


class ProbeLine(Static):
    """One probe. A gated probe stays hidden (its text may contain the guarded word, which the
    interviewer must not read out) until the participant has raised the term."""

    def __init__(self, probe: Probe, unlocked: bool) -> None:
        super().__init__("", id=probe_id(probe), classes="probe", markup=False)
        self.probe = probe
        self.show(unlocked)

    def show(self, unlocked: bool) -> None:
        self.unlocked = unlocked
        self.set_class(not unlocked, "-locked")
        if unlocked:
            self.update(f"• {self.probe.text}")
        else:
            terms = " and ".join(self.probe.requires)
            self.update(f"🔒 locked until the participant raises {terms}")


class QuestionPanel(VerticalScroll):
    """Shows one step of the schedule; `show` rebuilds the probes when the question changes."""

    def compose(self) -> ComposeResult:
        yield Static("", id="topic-title", markup=False)
        yield Static("", id="question", markup=False)
        yield Vertical(id="probes")
        yield Static("", id="instructions", markup=False)

    async def show(
        self,
        topic: Topic,
        question: Question,
        position: str,
        unlocked: Unlocked,
        instructions: Sequence[str] = (),
    ) -> None:
        """`instructions`: notes for the interviewer (never read aloud), shown under the probes."""
        self.query_one("#topic-title", Static).update(f"{position} · {topic.title}")
        self.query_one("#question", Static).update(question.text)
        probes = self.query_one("#probes", Vertical)
        current = list(probes.query(ProbeLine))
        if [line.probe for line in current] == list(question.probes):
            for line in current:
                line.show(unlocked(line.probe.requires))
        else:
            await probes.remove_children()
            await probes.mount_all(ProbeLine(p, unlocked(p.requires)) for p in question.probes)
        probes.display = bool(question.probes)
        notes = [unwrap(text) for text in instructions if text.strip()]
        shown = self.query_one("#instructions", Static)
        shown.update("\n".join(f"ℹ {text}" for text in notes))
        shown.display = bool(notes)
