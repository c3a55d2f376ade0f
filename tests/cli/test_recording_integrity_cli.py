"""Issue 9 on the command line, with real processes: no silent new wave (3), one recording per
participant (6), withdrawal stops a recording in another process (7), the job queue (8), a full
disk mid-recording (14) and PortAudio's own noise on stderr (15)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from fieldkit.services.study import Study, open_study
from fieldkit.store.repo import Interviews, JobRow, Jobs, RecordingRow, Recordings
from tests import soundserver
from tests.conftest import REPO_ROOT, CliRun
from tests.disks import fill_disk, small_disk

PID = "INTSTA002-CLIN"  # consented in the demo study
OTHER = "INTSTA003-PEER"  # consented too


def without_live_guard(root: Path) -> None:
    """These tests are about recording: the live guard (a Whisper model) would only slow them."""
    config = root / "study.toml"
    text = config.read_text()
    assert "live_guard = true" in text
    config.write_text(text.replace("live_guard = true", "live_guard = false"))


@pytest.fixture
def demo_dir(tmp_path: Path, cli: CliRun) -> Path:
    root = tmp_path / "demo"
    assert cli("demo", "--no-app", "--empty", "--dir", root).exit_code == 0
    without_live_guard(root)
    return root


def tone_file(path: Path, seconds: float, samplerate: int = 16000) -> Path:
    t = np.arange(round(seconds * samplerate)) / samplerate
    audio = np.stack([0.3 * np.sin(2 * np.pi * 440 * t), 0.3 * np.sin(2 * np.pi * 660 * t)], 1)
    sf.write(path, audio, samplerate)
    return path


@pytest.fixture
def long_tone(tmp_path: Path) -> Path:
    """30 s: outlasts every recording here, so only the test stops it."""
    return tone_file(tmp_path / "long.wav", 30.0)


@pytest.fixture
def short_tone(tmp_path: Path) -> Path:
    return tone_file(tmp_path / "short.wav", 3.0)


def fieldkit_process(study_dir: Path, *args: object) -> subprocess.Popen[str]:
    """`fieldkit --study DIR ARGS…` in its own process (this checkout's code)."""
    command = [sys.executable, "-m", "fieldkit", "--study", str(study_dir), *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    """Processes a test starts; none outlives it."""
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate()


def wait_until(what: str, ready: Callable[[], bool], seconds: float) -> float:
    deadline = time.monotonic() + seconds
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds} s waiting for {what}")
        time.sleep(0.05)
    return time.monotonic()


def live_rows(study: Study) -> list[RecordingRow]:
    return Recordings(study.db).with_status("recording")


def frames_written(path: Path) -> int:
    return sf.info(path).frames if path.is_file() and path.stat().st_size > 44 else 0


def running_jobs(study: Study) -> list[JobRow]:
    return Jobs(study.db).with_status("running")


def interviews(cli: CliRun, demo_dir: Path) -> list[dict[str, object]]:
    return list(json.loads(cli("interviews", "--json", "--study", demo_dir).stdout))


# -- item 3 ----------------------------------------------------------------------------------
def test_record_and_import_refuse_a_new_wave_unless_it_is_named(
    demo_dir: Path, cli: CliRun, short_tone: Path
) -> None:
    assert cli("import-audio", PID, short_tone, "--study", demo_dir).exit_code == 0
    for args in (
        ("record", PID, "--input", short_tone, "--seconds", "0.5"),
        ("import-audio", PID, short_tone),
    ):
        result = cli(*args, "--study", demo_dir)
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
        assert "commencement interview" in result.stderr
        assert "add --wave follow-up" in result.stderr
    assert [r["wave"] for r in interviews(cli, demo_dir)] == ["commencement"]
    named = cli("import-audio", PID, short_tone, "--wave", "follow-up", "--study", demo_dir)
    assert named.exit_code == 0
    assert [r["wave"] for r in interviews(cli, demo_dir)] == ["commencement", "follow-up"]


def test_a_wave_that_is_not_a_name_is_refused_and_nothing_is_written(
    demo_dir: Path, cli: CliRun, short_tone: Path
) -> None:
    result = cli("record", PID, "--wave", "../../x", "--input", short_tone, "--study", demo_dir)
    assert result.exit_code == 1 and "unknown wave '../../x'" in result.stderr
    assert list((demo_dir / "audio").iterdir()) == []
    assert not (demo_dir.parent / "x").exists()


# -- item 6 ----------------------------------------------------------------------------------
def test_a_second_record_of_a_participant_being_recorded_names_the_first(
    demo_dir: Path, cli: CliRun, long_tone: Path, processes: list[subprocess.Popen[str]]
) -> None:
    first = fieldkit_process(demo_dir, "record", PID, "--input", long_tone)
    processes.append(first)
    study = open_study(demo_dir)
    wait_until("the first recording", lambda: bool(live_rows(study)), 20)

    second = cli("record", PID, "--input", long_tone, "--seconds", "1", "--study", demo_dir)
    assert second.exit_code == 1
    assert second.stderr.strip() == second.stderr.strip().splitlines()[0]  # one line
    assert f"already being recorded by `fieldkit record` (PID {first.pid})" in second.stderr
    assert len(list((demo_dir / "audio").iterdir())) == 1  # the second wrote no file

    # Another participant may be recorded meanwhile.
    other = cli("record", OTHER, "--input", long_tone, "--seconds", "0.5", "--study", demo_dir)
    assert other.exit_code == 0, other.stderr

    first.send_signal(signal.SIGINT)  # Ctrl-C: the first recording ends cleanly
    assert first.wait(timeout=20) == 0
    interview = Interviews(study.db).find(PID, "commencement")
    assert interview is not None
    [row] = Recordings(study.db).for_interview(interview.id)
    assert row.status == "complete" and row.recorder == "fieldkit record"


def test_two_records_started_at_once_give_one_recording(
    demo_dir: Path, long_tone: Path, processes: list[subprocess.Popen[str]]
) -> None:
    pair = [
        fieldkit_process(demo_dir, "record", PID, "--input", long_tone, "--seconds", "3")
        for _ in range(2)
    ]
    processes.extend(pair)
    results = [(p.wait(timeout=60), p.communicate()) for p in pair]
    codes = sorted(code for code, _ in results)
    assert codes == [0, 1], results
    [(_, (_, refused))] = [r for r in results if r[0] == 1]
    assert "already being recorded by `fieldkit record` (PID" in refused
    assert "Traceback" not in refused
    study = open_study(demo_dir)
    assert study.db["recordings"].count == 1 and study.db["interviews"].count == 1


# -- item 7 ----------------------------------------------------------------------------------
def test_withdrawing_consent_stops_a_recording_in_another_process_within_2_s(
    demo_dir: Path, cli: CliRun, long_tone: Path, processes: list[subprocess.Popen[str]]
) -> None:
    recorder = fieldkit_process(demo_dir, "record", PID, "--input", long_tone)
    processes.append(recorder)
    study = open_study(demo_dir)
    wait_until("the recording", lambda: bool(live_rows(study)), 20)
    [row] = live_rows(study)
    wav = demo_dir / row.path
    wait_until("1.5 s of audio", lambda: frames_written(wav) >= 1.5 * 16000, 20)

    frames_before = frames_written(wav)
    withdrawn_at = time.monotonic()
    result = cli("consent", PID, "--withdraw", "--study", demo_dir)
    assert result.exit_code == 0, result.output
    stopped_at = wait_until(
        "the recording to stop",
        lambda: Recordings(study.db).get(row.id).status != "recording",
        10,
    )
    assert stopped_at - withdrawn_at <= 2.0
    assert f"stopped the recording by `fieldkit record` (PID {recorder.pid})" in result.stdout

    assert recorder.wait(timeout=20) == 0
    _, stderr = recorder.communicate()
    assert "withdrew consent" in stderr and "Traceback" not in stderr
    kept = Recordings(study.db).get(row.id)
    assert (kept.status, kept.stop_reason) == ("complete", "withdrawn")
    frames = sf.info(wav).frames
    assert frames >= frames_before  # what was recorded before the withdrawal is kept …
    assert frames <= frames_before + 2.5 * 16000  # … and little after it
    assert kept.duration_s == pytest.approx(frames / 16000, abs=0.01)
    [interview] = interviews(cli, demo_dir)
    assert interview["status"] == "withdrawn"
    assert interview["duration_s"] == pytest.approx(frames / 16000, abs=0.02)

    # A withdrawn participant's interviews are not transcribed: one line says why.
    named = cli("transcribe", PID, "--study", demo_dir)
    assert named.exit_code == 1 and len(named.stderr.splitlines()) == 1
    assert "withdrawn consent: their interviews are not transcribed" in named.stderr
    everything = cli("transcribe", "--all", "--study", demo_dir)
    assert everything.exit_code == 0
    assert f"{PID} commencement: participant {PID} has withdrawn consent" in everything.stdout
    assert study.db["jobs"].count == 0


def test_an_ended_interview_of_a_withdrawn_participant_is_not_transcribed(
    demo_dir: Path, cli: CliRun, short_tone: Path
) -> None:
    assert cli("import-audio", PID, short_tone, "--study", demo_dir).exit_code == 0
    study = open_study(demo_dir)
    interview = Interviews(study.db).find(PID, "commencement")
    assert interview is not None
    job_id = Jobs(study.db).add(interview.id, "tiny.en", "2026-01-01T00:00:00")  # queued before
    assert cli("consent", PID, "--withdraw", "--study", demo_dir).exit_code == 0
    result = cli("transcribe", "--all", "--study", demo_dir)
    assert result.exit_code == 0
    assert "has withdrawn consent" in result.stdout
    # The job queued before the withdrawal is refused by the worker, not transcribed.
    from fieldkit.services.transcription import run_pending

    assert run_pending(study) == 1
    job = Jobs(study.db).get(job_id)
    assert job.status == "failed" and job.message == (
        "not transcribed: the participant withdrew consent"
    )
    assert study.db["transcripts"].count == 0


# -- item 8 ----------------------------------------------------------------------------------
def test_transcribe_gives_up_on_a_job_that_stopped_its_worker_three_times(
    demo_dir: Path, cli: CliRun, short_tone: Path
) -> None:
    assert cli("import-audio", PID, short_tone, "--study", demo_dir).exit_code == 0
    study = open_study(demo_dir)
    interview = Interviews(study.db).find(PID, "commencement")
    assert interview is not None
    job_id = Jobs(study.db).add(interview.id, "tiny.en", "2026-01-01T00:00:00")
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    # Two workers already died on it; the third one just did.
    Jobs(study.db).update(
        job_id, status="running", worker_pid=gone.pid, crashes=2, started_at="2026-01-01T00:00:01"
    )
    result = cli("transcribe", "--all", "--study", demo_dir)
    assert result.exit_code == 1
    assert f"{PID} commencement: failed: transcription failed: the worker stopped 3 times" in (
        result.stdout
    )
    assert "Traceback" not in result.output
    assert Jobs(study.db).get(job_id).status == "failed"
    assert study.db["transcripts"].count == 0


@pytest.mark.model
def test_a_second_transcribe_waits_for_the_running_worker_and_exits_0(
    demo_dir: Path, cli: CliRun, tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    from fieldkit.paths import shipped_demo_audio

    demo = shipped_demo_audio("demo-interview.flac")  # 92 s: the first worker is busy a while
    assert cli("import-audio", PID, demo, "--study", demo_dir).exit_code == 0
    short = tone_file(tmp_path / "t.wav", 2.0)
    assert cli("import-audio", OTHER, short, "--study", demo_dir).exit_code == 0
    study = open_study(demo_dir)
    first = fieldkit_process(demo_dir, "transcribe", PID)
    processes.append(first)
    wait_until("the first worker to take its job", lambda: bool(running_jobs(study)), 60)
    [job] = running_jobs(study)
    worker_pid = job.worker_pid

    second = cli("transcribe", OTHER, "--study", demo_dir)
    assert second.exit_code == 0, second.output
    assert f"another transcription worker (PID {worker_pid})" in second.stderr
    assert f"{OTHER} commencement:" in second.stdout and "words" in second.stdout
    assert first.wait(timeout=120) == 0
    assert study.db["transcripts"].count == 2


@pytest.mark.model
def test_ctrl_c_on_transcribe_puts_the_job_back_without_counting_a_crash(
    demo_dir: Path, cli: CliRun, processes: list[subprocess.Popen[str]]
) -> None:
    from fieldkit.paths import shipped_demo_audio

    demo = shipped_demo_audio("demo-interview.flac")
    assert cli("import-audio", PID, demo, "--study", demo_dir).exit_code == 0
    study = open_study(demo_dir)
    command = fieldkit_process(demo_dir, "transcribe", PID)
    processes.append(command)
    wait_until("the worker to take the job", lambda: bool(running_jobs(study)), 60)
    [job] = running_jobs(study)
    command.send_signal(signal.SIGINT)
    assert command.wait(timeout=30) == 130
    after = Jobs(study.db).get(job.id)
    assert (after.status, after.worker_pid) == ("queued", None)
    assert after.crashes == 0


# -- item 14 ---------------------------------------------------------------------------------
@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    with small_disk(tmp_path / "tiny-disk", "2m") as disk:
        yield disk


def test_a_disk_filling_up_mid_recording_stops_it_with_the_seconds_kept(
    tiny_disk: Path, cli: CliRun, long_tone: Path, processes: list[subprocess.Popen[str]]
) -> None:
    root = tiny_disk / "study"
    assert cli("demo", "--no-app", "--empty", "--dir", root).exit_code == 0
    without_live_guard(root)
    config = root / "study.toml"
    config.write_text(config.read_text().replace("disk_margin_mb = 500", "disk_margin_mb = 0"))
    recorder = fieldkit_process(root, "record", PID, "--input", long_tone)
    processes.append(recorder)
    study = open_study(root)
    wait_until("the recording", lambda: bool(live_rows(study)), 20)
    [row] = live_rows(study)
    wav = root / row.path
    wait_until("some audio", lambda: frames_written(wav) >= 0.5 * 16000, 20)
    filler = fill_disk(tiny_disk)

    recorder.wait(timeout=30)
    _, stderr = recorder.communicate()
    assert "Traceback" not in stderr and "restore it from a backup" not in stderr
    [line] = [line for line in stderr.splitlines() if "disk is full" in line]
    assert "recording stopped because the disk is full" in line
    kept = sf.info(wav).frames / 16000
    assert f"({kept:.1f} s) is kept" in line
    assert kept >= 0.5

    filler.unlink()  # space again: the recording is (or gets) registered with what the file holds
    rows = interviews(cli, root)
    assert [r["recordings"] for r in rows] == [[row.path]]
    assert Recordings(open_study(root).db).get(row.id).duration_s == pytest.approx(kept, abs=0.01)


# -- item 15 ---------------------------------------------------------------------------------
NOISY_START = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from tests import soundserver
    server = soundserver.start_sound_server(Path(sys.argv[1]), apply_environ=True)
    from fieldkit.audio.capture import CaptureSettings, Recorder
    from fieldkit.audio.devices import list_input_devices
    from fieldkit.errors import FieldkitError
    list_input_devices()  # PortAudio now knows the server's devices …
    server.kill()  # … which vanish: opening one makes ALSA and PortAudio complain on stderr
    settings = CaptureSettings(channels=1, disk_margin_bytes=0)
    try:
        Recorder(Path(sys.argv[2]), settings).start()
    except FieldkitError as error:
        print("error:", error.one_line(), file=sys.stderr)
    server.stop()
    """
)


def test_portaudio_noise_on_stderr_never_reaches_the_user(tmp_path: Path) -> None:
    if not soundserver.pulseaudio_available():
        pytest.skip("the `pulseaudio` binary is not installed (apt-get install pulseaudio)")
    script = tmp_path / "noisy.py"
    script.write_text(NOISY_START)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "pulse"), str(tmp_path / "x.wav")],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO_ROOT,
        timeout=60,
    )
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    ours = [line for line in lines if line.startswith("error: ")]
    assert len(ours) == 1 and "cannot open input device" in ours[0]
    noise = [line for line in lines if "ALSA lib" in line or "Expression '" in line]
    assert noise == [], lines
