"""Recording, the live guard and transcription jobs in the app, through Pilot with real parts: a
real study, the virtual microphone playing WAVs made here with espeak-ng, the bundled model in its
own processes. No sound server is needed: --input files go through the same capture path."""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile
from textual.pilot import Pilot
from textual.widgets import DataTable

from fieldkit.audio.capture import LevelReading
from fieldkit.core.guard import GuardEvent, GuardEventKind
from fieldkit.core.models import InterviewStatus, Speaker
from fieldkit.services.interviews import interview_events, start_interview
from fieldkit.services.participants import interview_queue, withdraw_consent
from fieldkit.services.study import Study, now_iso
from fieldkit.services.transcription import stop_worker, transcript_state
from fieldkit.store.repo import Interviews, Jobs, Recordings, Transcripts
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.messages import GuardEventDetected
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.modals import Confirm
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.widgets.guard_banner import GuardBanner, banner_id
from fieldkit.tui.widgets.recording_bar import CLIP_HOLD_S, LevelMeter, RecordingBar
from tests.speech import TurnTiming, espeak_available, two_speaker_wav

from .conftest import SIZE, notifications, shown

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
pytestmark = needs_espeak
TERM = "recovery"


# -- clips (made once) ------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Clip:
    path: Path
    turns: list[TurnTiming]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Clip]:
    folder = tmp_path_factory.mktemp("clips")
    scripts: dict[str, list[tuple[str, str]]] = {
        # A short exchange without the term: for recording, pausing and transcription.
        "plain": [
            ("interviewer", "How was your week at the unit?"),
            ("participant", "It was a good week, thank you for asking."),
        ],
        # The participant raises the term early; the interviewer talks on (keeps it recording).
        "raised": [
            ("interviewer", "How are things going for you?"),
            ("participant", "My recovery is going well, thank you."),
            ("interviewer", "That is good to hear. Tell me about the people you work with."),
            ("participant", "They are kind, and the manager listens to us every single day."),
        ],
        # The interviewer says the term first: a breach.
        "breach": [
            ("interviewer", "How do you think the unit will support recovery for people?"),
            ("participant", "I think it will give them a safe place to stay for a while."),
            ("interviewer", "Tell me more about what a safe place means for the people here."),
        ],
    }
    made = {}
    for name, turns in scripts.items():
        path = folder / f"{name}.wav"
        made[name] = Clip(path, two_speaker_wav(turns, path))
    # The plain exchange followed by 30 s of near silence: an input that outlasts a test that
    # takes its time (the virtual microphone plays on in real time, paused or not).
    audio, rate = soundfile.read(made["plain"].path, dtype="float32", always_2d=True)
    quiet = np.random.default_rng(3).normal(0, 0.001, (30 * rate, audio.shape[1]))
    long_path = folder / "plain-long.wav"
    soundfile.write(long_path, np.concatenate([audio, quiet.astype("float32")]), rate)
    made["long"] = Clip(long_path, made["plain"].turns)
    return made


# -- helpers ----------------------------------------------------------------------------------
def fieldkit_children() -> list[int]:
    """Our child processes running fieldkit's engines (live guard or transcription worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid() and b"fieldkit.transcribe" in command:
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def nothing_left_running() -> Iterator[list[FieldkitApp]]:
    """Each test registers its apps; afterwards no engine process of ours may be left behind."""
    apps: list[FieldkitApp] = []
    yield apps
    for app in apps:
        if app.transcriber is not None:
            stop_worker(app.transcriber)
    deadline = time.monotonic() + 10
    while fieldkit_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert fieldkit_children() == []


def without_live_guard(study: Study) -> None:
    config = study.config
    transcription = dataclasses.replace(config.transcription, live_guard=False)
    study.config = dataclasses.replace(config, transcription=transcription)


def make_app(study: Study, apps: list[FieldkitApp], input_file: Path | None) -> FieldkitApp:
    app = FieldkitApp(study, input_file=input_file)
    apps.append(app)
    return app


async def wait_for(
    pilot: Pilot[None], what: str, ready: Callable[[], bool], seconds: float
) -> float:
    """Poll (keeping the app running) until `ready()`; returns when it became true."""
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        await pilot.pause(0.1)
    return time.monotonic()


async def open_interview(app: FieldkitApp, pilot: Pilot[None]) -> InterviewScreen:
    await pilot.press("enter")
    await wait_for(
        pilot, "the interview screen", lambda: isinstance(app.screen, InterviewScreen), 5
    )
    assert isinstance(app.screen, InterviewScreen)
    return app.screen


async def settled_time(pilot: Pilot[None], screen: InterviewScreen) -> float:
    """The recorded time once it has stopped moving (blocks captured before a pause is pressed
    are still written after it)."""
    readings = [screen.session.elapsed()]

    def still() -> bool:
        readings.append(screen.session.elapsed())
        return len(readings) >= 6 and readings[-1] == readings[-6]

    await wait_for(pilot, "the recorded time to settle", still, 5)
    return readings[-1]


async def quit_app(pilot: Pilot[None], app: FieldkitApp) -> None:
    """q stops the recording cleanly, then the app exits."""
    await pilot.press("q")
    await wait_for(pilot, "the app to exit", lambda: app.return_code is not None, 15)


async def start_recording(pilot: Pilot[None], screen: InterviewScreen) -> float:
    """Press space; returns the time of the key press, once capture runs."""
    pressed = time.monotonic()
    await pilot.press("space")
    await wait_for(pilot, "the recording to start", lambda: screen.recording, 10)
    return pressed


def audio_files(study: Study) -> list[Path]:
    return sorted(study.paths.audio.glob("*.wav"))


# -- recording --------------------------------------------------------------------------------
async def test_space_records_meters_move_pause_stops_the_clock_and_q_keeps_everything(
    tui_study: Study, clips: dict[str, Clip], nothing_left_running: list[FieldkitApp]
) -> None:
    without_live_guard(tui_study)
    app = make_app(tui_study, nothing_left_running, clips["long"].path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        assert shown(app, "#recording-state").startswith("○ not recording")
        assert "virtual microphone: plain-long.wav" in shown(app, "#recording-hint")
        assert re.search(r"disk [\d.]+ GB free · [\d.]+ h of recording", shown(app, "#disk-status"))

        await start_recording(pilot, screen)
        [wav] = audio_files(tui_study)
        [row] = Recordings(tui_study.db).for_interview(screen.session.interview.id)
        assert (row.status, row.pid, row.path) == ("recording", os.getpid(), f"audio/{wav.name}")
        assert row.channel_map == ("interviewer", "participant")
        assert "live guard: off in study.toml" in shown(app, "#guard-status")

        # The meters: one per channel, named by the channel map, showing a level in dBFS.
        meters = list(app.screen.query(LevelMeter))
        assert [m.label for m in meters] == ["interviewer", "participant"]
        await wait_for(pilot, "level readings", lambda: all(m.readings >= 3 for m in meters), 5)
        assert all(re.fullmatch(r"\s*-?\d+ dBFS", m.value_text) for m in meters)
        assert all(m.display for m in meters)
        assert shown(app, "#recording-state").startswith("● REC 00:0")

        # A note taken while recording carries the recording time of the key press.
        at_press = screen.link.session.elapsed()  # type: ignore[union-attr]
        await pilot.press("f", *"nods a lot", "enter")
        await wait_for(
            pilot,
            "the note",
            lambda: bool(interview_events(tui_study, screen.session.interview.id, "note")),
            5,
        )
        [note] = interview_events(tui_study, screen.session.interview.id, "note")
        assert note.at > 0.1 and abs(note.at - at_press) < 0.3

        # Pause: recorded time stops; resume: it moves on.
        link = screen.link
        assert link is not None
        await pilot.press("space")
        await wait_for(pilot, "the pause", lambda: link.state == "paused", 3)
        paused_at = await settled_time(pilot, screen)
        await pilot.pause(0.7)  # time passes while paused …
        assert screen.session.elapsed() == paused_at  # … and none of it is recorded
        await wait_for(
            pilot,
            "the paused state shown",
            lambda: shown(app, "#recording-state").startswith("❚❚ paused"),
            3,
        )
        await pilot.press("space")
        await wait_for(pilot, "the resume", lambda: link.state == "recording", 3)
        await wait_for(
            pilot, "recording to go on", lambda: screen.session.elapsed() > paused_at + 0.3, 10
        )
        recorded = screen.session.elapsed()

        await quit_app(pilot, app)  # quitting stops the recording cleanly first
    [row] = Recordings(tui_study.db).for_interview(screen.session.interview.id)
    assert (row.status, row.stop_reason, row.pid) == ("complete", "requested", None)
    frames, rate = soundfile.info(str(wav)).frames, soundfile.info(str(wav)).samplerate
    assert row.duration_s == pytest.approx(frames / rate, abs=0.01)
    assert recorded - 0.2 <= frames / rate <= recorded + 0.5
    interview = Interviews(tui_study.db).get(screen.session.interview.id)
    assert interview.status is InterviewStatus.IN_PROGRESS  # quitting does not end it


@pytest.mark.model
async def test_end_of_input_then_e_ends_queues_and_the_worker_transcribes(
    tui_study: Study, clips: dict[str, Clip], nothing_left_running: list[FieldkitApp]
) -> None:
    without_live_guard(tui_study)
    clip = clips["plain"]
    app = make_app(tui_study, nothing_left_running, clip.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        interview_id = screen.session.interview.id
        await start_recording(pilot, screen)
        await wait_for(pilot, "the end of the input", lambda: not screen.recording, 15)
        await wait_for(
            pilot,
            "the stop to be registered",
            lambda: Recordings(tui_study.db).for_interview(interview_id)[0].status == "complete",
            5,
        )
        warnings = [m for s, m in notifications(app) if s == "warning"]
        assert any("reached the end of its file" in m and "is kept" in m for m in warnings)
        assert shown(app, "#recording-state").startswith("■ stopped")
        assert "e ends the interview" in shown(app, "#recording-hint")
        [row] = Recordings(tui_study.db).for_interview(interview_id)
        assert row.stop_reason == "end-of-input"
        assert row.duration_s == pytest.approx(clip.turns[-1].end + 0.5, abs=0.2)

        await pilot.press("e", "y")
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 10)
        ended = Interviews(tui_study.db).get(interview_id)
        assert ended.status is InterviewStatus.ENDED
        assert ended.duration_s == pytest.approx(row.duration_s, abs=0.02)
        job = Jobs(tui_study.db).latest_for(interview_id)
        assert job is not None and job.status in ("queued", "running", "done")
        assert any("Queued for transcription" in m for _, m in notifications(app))
        assert app.transcriber is not None  # the worker process was started

        # The queue shows the job's progress until the worker has stored the transcript.
        participant = ended.participant_id
        table = app.screen.query_one(DataTable)
        seen = set()

        def transcribed() -> bool:
            seen.add(str(table.get_cell(participant, "transcript")))
            return "needs review" in seen

        await wait_for(pilot, "the transcript", transcribed, 60)
        assert seen <= {"queued", "needs review"} | {f"transcribing {n}%" for n in range(100)}
    assert transcript_state(tui_study, interview_id) == "needs review"
    [transcript] = Transcripts(tui_study.db).for_interview(interview_id)
    words = " ".join(s.text for s in Transcripts(tui_study.db).segments(transcript.id)).lower()
    assert "week" in words


# -- the live guard ----------------------------------------------------------------------------
@pytest.mark.model
async def test_live_guard_turns_the_banner_within_10_s_of_the_participant_saying_it(
    tui_study: Study, clips: dict[str, Clip], nothing_left_running: list[FieldkitApp]
) -> None:
    clip = clips["raised"]
    said = clip.turns[1]
    assert TERM in said.text.lower() and said.speaker == "participant"
    app = make_app(tui_study, nothing_left_running, clip.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        banner = app.screen.query_one(f"#{banner_id(TERM)}", GuardBanner)
        assert banner.has_class("-locked")
        pressed = await start_recording(pilot, screen)
        # The term is said before the participant's turn ends: the banner must turn by then + 10 s.
        limit = said.end + 10 - (time.monotonic() - pressed)
        await wait_for(pilot, "the banner to turn", lambda: banner.has_class("-raised"), limit)
        assert "live guard: listening" in shown(app, "#guard-status")
        text = shown(app, f"#{banner_id(TERM)}")
        follow_up = tui_study.schedule().guarded_terms[0].follow_up
        assert "raised by the participant" in text and follow_up in text
        await quit_app(pilot, app)
    raised = [
        e
        for e in interview_events(tui_study, screen.session.interview.id, "guard")
        if e.guard_kind == "raised"
    ]
    assert [(e.term, e.speaker, e.source) for e in raised] == [(TERM, "participant", "live")]
    assert said.start - 0.5 <= raised[0].at <= said.end + 0.5


@pytest.mark.model
async def test_live_guard_warns_visibly_when_the_interviewer_says_it_first(
    tui_study: Study, clips: dict[str, Clip], nothing_left_running: list[FieldkitApp]
) -> None:
    clip = clips["breach"]
    app = make_app(tui_study, nothing_left_running, clip.path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        banner = app.screen.query_one(f"#{banner_id(TERM)}", GuardBanner)
        pressed = await start_recording(pilot, screen)
        limit = clip.turns[0].end + 10 - (time.monotonic() - pressed)
        await wait_for(pilot, "the breach warning", lambda: banner.has_class("-breach"), limit)
        text = shown(app, f"#{banner_id(TERM)}")
        assert re.search(rf"you said {TERM} at 00:0\d before the participant raised it", text)
        assert banner.has_class("-locked")  # still not to be said
        # the notification is posted as a message: give the app a moment to show it
        await wait_for(
            pilot,
            "the breach notification",
            lambda: any(
                sev == "error" and f"you said {TERM}" in m for sev, m in notifications(app)
            ),
            2.0,
        )
        await quit_app(pilot, app)
    [breach] = [
        e
        for e in interview_events(tui_study, screen.session.interview.id, "guard")
        if e.guard_kind == "breach"
    ]
    assert (breach.speaker, breach.source) == ("interviewer", "live")
    assert clip.turns[0].start - 0.5 <= breach.at <= clip.turns[0].end + 0.5


async def test_a_live_raise_after_the_r_key_is_not_stored_twice(
    tui_study: Study, nothing_left_running: list[FieldkitApp]
) -> None:
    app = make_app(tui_study, nothing_left_running, None)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        await pilot.press("r")
        await pilot.pause()
        late = GuardEvent(TERM, GuardEventKind.RAISED, Speaker.PARTICIPANT, at=30.0)
        screen.post_message(GuardEventDetected(late))
        await pilot.pause()
        raised = [
            e
            for e in interview_events(tui_study, screen.session.interview.id, "guard")
            if e.guard_kind == "raised"
        ]
        assert [e.source for e in raised] == ["manual"]
        assert "at 00:30" not in shown(app, f"#{banner_id(TERM)}")


# -- what must not happen ----------------------------------------------------------------------
async def test_space_without_an_input_or_without_consent_is_one_error_line(
    tui_study: Study,
    tmp_path: Path,
    clips: dict[str, Clip],
    nothing_left_running: list[FieldkitApp],
) -> None:
    app = make_app(tui_study, nothing_left_running, tmp_path / "no-such-file.wav")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        errors = [m for s, m in notifications(app) if s == "error"]
        assert len(errors) == 1 and "does not exist" in errors[0]
        assert not screen.recording and shown(app, "#recording-state").startswith("○ not")

    app = make_app(tui_study, nothing_left_running, clips["plain"].path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        withdraw_consent(tui_study, screen.session.participant.id)  # while the screen is open
        await pilot.press("space")
        await app.workers.wait_for_complete()
        await pilot.pause()
        errors = [m for s, m in notifications(app) if s == "error"]
        assert len(errors) == 1 and "consent" in errors[0]
        assert not screen.recording and shown(app, "#recording-state").startswith("○ not")
    assert Recordings(tui_study.db).for_interview(screen.session.interview.id) == []
    assert audio_files(tui_study) == []


async def test_escape_while_recording_asks_then_a_second_recording_and_e_while_recording(
    tui_study: Study, clips: dict[str, Clip], nothing_left_running: list[FieldkitApp]
) -> None:
    without_live_guard(tui_study)
    app = make_app(tui_study, nothing_left_running, clips["long"].path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_interview(app, pilot)
        await start_recording(pilot, screen)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, Confirm)
        await pilot.press("n")  # keep recording
        await pilot.pause()
        assert app.screen is screen and screen.recording
        await pilot.press("escape", "y")
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 10)
        [row] = Recordings(tui_study.db).for_interview(screen.session.interview.id)
        assert (row.status, row.stop_reason) == ("complete", "requested")
        assert row.duration_s and row.duration_s > 0
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell(screen.session.participant.id, "interview")).startswith(
            "in progress"
        )

        # Back in: a second recording goes into a new file and carries on the interview clock;
        # e while recording stops it, ends the interview and queues it for transcription.
        screen = await open_interview(app, pilot)
        await start_recording(pilot, screen)
        await wait_for(pilot, "some audio", lambda: screen.session.elapsed() > 0.3, 10)
        await pilot.press("e", "y")
        await wait_for(pilot, "the queue", lambda: isinstance(app.screen, QueueScreen), 10)
    first, second = Recordings(tui_study.db).for_interview(screen.session.interview.id)
    assert first.path != second.path and len(audio_files(tui_study)) == 2
    assert second.offset_s == first.duration_s and second.status == "complete"
    ended = Interviews(tui_study.db).get(screen.session.interview.id)
    assert ended.status is InterviewStatus.ENDED
    assert ended.duration_s == pytest.approx(first.duration_s + second.duration_s, abs=0.02)
    assert Jobs(tui_study.db).latest_for(ended.id) is not None
    assert app.transcriber is not None


async def test_meters_warn_about_clipping_and_a_silent_channel(
    tui_study: Study, nothing_left_running: list[FieldkitApp]
) -> None:
    app = make_app(tui_study, nothing_left_running, None)
    async with app.run_test(size=SIZE) as pilot:
        await open_interview(app, pilot)
        bar = app.screen.query_one(RecordingBar)
        bar.set_meters_visible(True)
        bar.show_levels(LevelReading(12.0, (-0.1, -70.0), (1.0, 0.0), (True, False), (0.0, 12.4)))
        await pilot.pause()
        warning = shown(app, "#recording-warning")
        assert "interviewer channel clipping" in warning
        assert "participant channel silent for 12 s" in warning
        interviewer = app.screen.query_one("#level-0", LevelMeter)
        assert interviewer.clipping and "CLIP" in str(interviewer.render())
        calm = LevelReading(12.1, (-20.0, -25.0), (0.3, 0.2), (False, False), (0.0, 0.0))
        bar.show_levels(calm)
        # A clip stays flagged for a moment (no flicker); the silence warning goes at once.
        assert shown(app, "#recording-warning").startswith("⚠ interviewer channel clipping")
        assert "silent" not in shown(app, "#recording-warning")
        interviewer.clipped_at -= CLIP_HOLD_S
        bar.show_levels(calm)
        assert shown(app, "#recording-warning") == ""
        assert not interviewer.clipping and "-20 dBFS" in str(interviewer.render())


# -- the queue and start-up --------------------------------------------------------------------
async def test_queue_shows_transcription_progress_from_the_job_table(
    tui_study: Study, nothing_left_running: list[FieldkitApp]
) -> None:
    participant = interview_queue(tui_study)[0].id
    interview = start_interview(tui_study, participant)
    job_id = Jobs(tui_study.db).add(interview.id, "tiny.en", now_iso())
    # A live worker holds it (this process stands in for one, so it is not queued again).
    Jobs(tui_study.db).update(
        job_id, status="running", progress=0.4, worker_pid=os.getpid(), started_at=now_iso()
    )
    app = make_app(tui_study, nothing_left_running, None)
    async with app.run_test(size=SIZE) as pilot:
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell(participant, "transcript")) == "transcribing 40%"
        Jobs(tui_study.db).update(job_id, progress=0.7)
        await wait_for(
            pilot,
            "70 %",
            lambda: str(table.get_cell(participant, "transcript")) == "transcribing 70%",
            3,
        )
        Jobs(tui_study.db).update(job_id, status="failed", message="engine crashed")
        await wait_for(
            pilot, "failed", lambda: str(table.get_cell(participant, "transcript")) == "failed", 3
        )
        assert app.transcriber is None  # nothing was queued, so no worker was started


async def test_start_up_recovers_an_interrupted_recording(
    tui_study: Study, clips: dict[str, Clip], nothing_left_running: list[FieldkitApp]
) -> None:
    participant = interview_queue(tui_study)[0].id
    interview = start_interview(tui_study, participant)
    target = tui_study.paths.audio / "crashed.wav"
    target.write_bytes(clips["plain"].path.read_bytes())
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()  # its pid now stands for a recording process that died
    dead = process.pid
    Recordings(tui_study.db).insert(
        interview_id=interview.id,
        path="audio/crashed.wav",
        samplerate=16000,
        channels=2,
        channel_map=("interviewer", "participant"),
        source="microphone",
        offset_s=0.0,
        status="recording",
        pid=dead,
        started_at=now_iso(),
    )
    app = make_app(tui_study, nothing_left_running, None)
    async with app.run_test(size=SIZE):
        warnings = [m for s, m in notifications(app) if s == "warning"]
        assert any(f"Recovered an interrupted recording of {participant}" in m for m in warnings), (
            warnings
        )
        table = app.screen.query_one(DataTable)
        assert str(table.get_cell(participant, "interview")).startswith("interrupted")
    [row] = Recordings(tui_study.db).for_interview(interview.id)
    assert row.status == "interrupted" and row.duration_s == pytest.approx(
        soundfile.info(str(target)).duration, abs=0.01
    )
