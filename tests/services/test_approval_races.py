"""Issue 9 item 4: every approval move is read, checked and written in one write transaction.

A returned copy is stored once; a decided transcript takes no returned copy; two processes (two
terminals) or two threads (the app and a command) racing on one SQLite file cannot both move a
transcript.

To make the race happen every time rather than by luck, each racer waits for the other right
after its legality check (a barrier with a timeout). If the check ran outside the write lock,
both racers would pass it and then both write; inside the lock, the second racer cannot even
start its check until the first has committed, so the barrier times out and the second racer
finds the new state and is refused.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from fieldkit.core.workflow import TranscriptState
from fieldkit.errors import FieldkitError, WorkflowError
from fieldkit.services.approval import copies, decisions, states
from fieldkit.services.study import Study, open_study
from fieldkit.store.repo import InterviewRow
from tests.conftest import REPO_ROOT
from tests.export.factory import make_interview, sample_segments

BARRIER_TIMEOUT_S = 3.0


@pytest.fixture
def sent(study: Study, tmp_path: Path) -> tuple[InterviewRow, Path]:
    """An interview whose copy (.txt) is with the participant; and an edited returned copy."""
    interview = make_interview(study, sample_segments())
    states.mark_reviewed(study, interview.participant_id)
    out = tmp_path / "copy.txt"
    a_month_ago = dt.date.today() - dt.timedelta(days=30)  # its deadline has passed
    copies.send_copy(study, interview.participant_id, out, today=a_month_ago)
    returned = tmp_path / "returned.txt"
    text = out.read_text(encoding="utf-8").replace("A long journey.", "A long, long journey.")
    returned.write_text(text, encoding="utf-8")
    return interview, returned


def moves_to(study: Study, interview: InterviewRow, state: TranscriptState) -> int:
    return study.db["approval_moves"].count_where(
        "interview_id = ? and to_state = ?", [interview.id, state.value]
    )


def participant_revisions(study: Study, interview: InterviewRow) -> int:
    return study.db["transcripts"].count_where(
        "interview_id = ? and kind = 'participant'", [interview.id]
    )


# -- one terminal, two steps ------------------------------------------------------------------


def test_the_same_returned_copy_is_stored_once(
    study: Study, sent: tuple[InterviewRow, Path]
) -> None:
    interview, returned = sent
    first = copies.read_returned(study, interview.participant_id, returned)
    second = copies.read_returned(study, interview.participant_id, returned)  # read twice
    copies.accept_returned(study, first)
    with pytest.raises(WorkflowError, match="stored only once"):
        copies.accept_returned(study, second)
    assert participant_revisions(study, interview) == 1
    assert moves_to(study, interview, TranscriptState.RETURNED) == 1
    assert study.db["approval_returns"].count_where("interview_id = ?", [interview.id]) == 1
    with pytest.raises(WorkflowError, match="stored only once"):  # and read again later
        copies.read_returned(study, interview.participant_id, returned)


@pytest.mark.parametrize("decision", ["approved", "withdrawn"])
def test_a_decided_transcript_takes_no_returned_copy(
    study: Study, sent: tuple[InterviewRow, Path], decision: str
) -> None:
    interview, returned = sent
    read = copies.read_returned(study, interview.participant_id, returned)
    decisions.decide(study, interview.participant_id, decision)  # by phone, meanwhile
    with pytest.raises(WorkflowError, match="a returned copy can no longer be stored"):
        copies.accept_returned(study, read)
    assert participant_revisions(study, interview) == 0
    assert states.approval_state(study, interview.id).value == decision
    with pytest.raises(WorkflowError, match="a returned copy can no longer be stored"):
        copies.read_returned(study, interview.participant_id, returned)


# -- two processes on one SQLite file ---------------------------------------------------------


def _wait_after(check: Callable[..., None], barrier: Any) -> Callable[..., None]:
    """`check`, then wait (bounded) for the other racer to pass its own check."""

    def checked(*args: Any, **kwargs: Any) -> None:
        check(*args, **kwargs)
        # A broken barrier: the other racer is blocked on the write lock, so go on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(BARRIER_TIMEOUT_S)

    return checked


def _race_in_process(
    root: str, actor: str, action: str, args: tuple[str, ...], barrier: Any, results: Any
) -> None:
    """A second terminal: its own process and connection, racing right after its check."""
    study = open_study(Path(root), actor=actor)
    try:
        if action == "decide":
            decisions.check_move = _wait_after(decisions.check_move, barrier)  # type: ignore[assignment]
            decisions.decide(study, *args)
        else:
            returned = copies.read_returned(study, args[0], Path(args[1]))
            copies.check_move = _wait_after(copies.check_move, barrier)  # type: ignore[assignment]
            copies.accept_returned(study, returned)
        results.put((actor, "ok"))
    except FieldkitError as error:
        results.put((actor, error.one_line()))
    finally:
        study.close()


def race(study: Study, jobs: list[tuple[str, tuple[str, ...]]]) -> dict[str, str]:
    """Run each (action, args) in its own process at once; what each one said, by actor."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [
        context.Process(
            target=_race_in_process,
            args=(str(study.root), f"racer{n}", action, args, barrier, results),
        )
        for n, (action, args) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    said = dict(results.get(timeout=60) for _ in processes)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    return said


def test_two_terminals_cannot_both_decide(study: Study, sent: tuple[InterviewRow, Path]) -> None:
    interview, _ = sent
    pid = interview.participant_id
    # neither may follow the other (a withdrawal may follow approval, so it is not used here)
    said = race(study, [("decide", (pid, "approved")), ("decide", (pid, "no-response"))])
    assert sorted(said.values()).count("ok") == 1, said
    [refusal] = [line for line in said.values() if line != "ok"]
    assert "its approval is decided" in refusal
    final = [TranscriptState.APPROVED, TranscriptState.NO_RESPONSE]
    assert sum(moves_to(study, interview, s) for s in final) == 1
    winner = next(actor for actor, line in said.items() if line == "ok")
    [move] = [m for m in states.state_history(study, interview.id) if m.to_state in final]
    assert move.actor == winner


def test_two_terminals_cannot_both_store_the_returned_copy(
    study: Study, sent: tuple[InterviewRow, Path]
) -> None:
    interview, returned = sent
    job = ("receive", (interview.participant_id, str(returned)))
    said = race(study, [job, job])
    assert sorted(said.values()).count("ok") == 1, said
    assert any("stored only once" in line for line in said.values())
    assert participant_revisions(study, interview) == 1
    assert moves_to(study, interview, TranscriptState.RETURNED) == 1


def test_commands_started_together_move_a_transcript_once(
    study: Study, sent: tuple[InterviewRow, Path]
) -> None:
    """No hooks: real `fieldkit approval decide` processes started at once."""
    interview, _ = sent
    decisions_given = ["approved", "no-response", "approved"]
    decide = [sys.executable, "-m", "fieldkit", "approval", "decide", interview.participant_id]
    commands = [[*decide, d, "--study", str(study.root)] for d in decisions_given]
    processes = [
        subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for command in commands
    ]
    outcomes = [
        (p.wait(timeout=60), p.stderr.read().decode() if p.stderr else "") for p in processes
    ]
    assert [code for code, _ in outcomes].count(0) == 1, outcomes
    assert all(err.startswith("error: ") for code, err in outcomes if code)
    final = [TranscriptState.APPROVED, TranscriptState.NO_RESPONSE]
    assert sum(moves_to(study, interview, s) for s in final) == 1


# -- the app and a command: two threads, two connections ---------------------------------------


def test_the_app_and_a_command_cannot_both_move_a_reviewed_transcript(
    study: Study, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reviewer reopens the transcript in the app while a colleague sends it."""
    interview = make_interview(study, sample_segments())
    states.mark_reviewed(study, interview.participant_id)
    barrier = threading.Barrier(2)
    monkeypatch.setattr(states, "check_move", _wait_after(states.check_move, barrier))
    monkeypatch.setattr(copies, "check_move", _wait_after(copies.check_move, barrier))
    said: dict[str, str] = {}

    def run(name: str, action: Callable[[], object]) -> None:
        try:
            action()
            said[name] = "ok"
        except FieldkitError as error:
            said[name] = error.one_line()
        finally:
            study.close()  # this thread's own connection

    out = tmp_path / "copy.docx"
    racers = [
        threading.Thread(
            target=run,
            args=(
                "app",
                lambda: states.move(study, interview, TranscriptState.NEEDS_REVIEW, note="edit"),
            ),
        ),
        threading.Thread(
            target=run,
            args=("cli", lambda: copies.send_copy(study, interview.participant_id, out)),
        ),
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join(timeout=60)
    assert list(said.values()).count("ok") == 1, said
    state = states.approval_state(study, interview.id)
    if said["cli"] == "ok":
        assert state is TranscriptState.SENT and out.exists()
        assert "is with the participant" in said["app"]
    else:
        assert state is TranscriptState.NEEDS_REVIEW and not out.exists()
        assert "still needs review; sign it off before sending" in said["cli"]
    sends = study.db["approval_sends"].count_where("interview_id = ?", [interview.id])
    assert sends == (1 if said["cli"] == "ok" else 0)
