"""Fixtures for the audio tests: a real user-space PulseAudio server, generated audio files, and a
way to run a recording in a child process (for kill -9, Ctrl-C and a dying sound server)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile

from fieldkit.audio.capture import Recorder
from tests import conftest as _shared

REPO_ROOT = Path(__file__).resolve().parents[2]


soundserver = _shared.soundserver


def write_tone(path: Path, seconds: float, samplerate: int, channels: int, freq: float) -> Path:
    """A sine at 0.5 of full scale (−9 dBFS RMS); channel k gets freq·(k+1) so channels differ."""
    t = np.arange(round(seconds * samplerate)) / samplerate
    columns = [0.5 * np.sin(2 * np.pi * freq * (k + 1) * t) for k in range(channels)]
    soundfile.write(path, np.stack(columns, axis=1), samplerate, subtype="PCM_16")
    return path


def write_noise(path: Path, seconds: float, samplerate: int, seed: int = 7) -> Path:
    """Mono white noise: every block is different, so positions in a recording can be checked."""
    rng = np.random.default_rng(seed)
    samples = rng.uniform(-0.5, 0.5, round(seconds * samplerate))
    soundfile.write(path, samples, samplerate, subtype="PCM_16")
    return path


def dominant_frequency(samples: np.ndarray, samplerate: int) -> float:
    """The frequency with the most energy in a mono signal."""
    windowed = samples * np.hanning(len(samples))
    spectrum = np.abs(np.fft.rfft(windowed))
    return float(np.fft.rfftfreq(len(samples), 1 / samplerate)[int(np.argmax(spectrum))])


@pytest.fixture(scope="session")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audio-files")


@pytest.fixture(scope="session")
def tone_wav(audio_dir: Path) -> Path:
    """2 s, 44.1 kHz stereo: 440 Hz left, 880 Hz right."""
    return write_tone(audio_dir / "tone.wav", 2.0, 44100, 2, 440.0)


@pytest.fixture(scope="session")
def tone_48k(audio_dir: Path) -> Path:
    """1.5 s, 48 kHz stereo 440/880 Hz (the null sink's own format: no resampling on the way)."""
    return write_tone(audio_dir / "tone48.wav", 1.5, 48000, 2, 440.0)


@pytest.fixture(scope="session")
def noise_wav(audio_dir: Path) -> Path:
    """10 s of 16 kHz mono noise (a virtual mic input that outlasts any test)."""
    return write_noise(audio_dir / "noise.wav", 10.0, 16000)


@pytest.fixture(scope="session")
def encoded_tones(audio_dir: Path, tone_wav: Path, ffmpeg: str) -> dict[str, Path]:
    """The tone as FLAC, MP3 and M4A (AAC), made with ffmpeg."""
    made = {"wav": tone_wav}
    for extension in ("flac", "mp3", "m4a"):
        target = audio_dir / f"tone.{extension}"
        subprocess.run(
            [ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", str(tone_wav), str(target)],
            check=True,
            timeout=60,
        )
        made[extension] = target
    return made


ChildRunner = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start_child() -> Iterator[ChildRunner]:
    """Start `python -c CODE` with fieldkit importable; killed at teardown if still running."""
    children: list[subprocess.Popen[str]] = []

    def start(code: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        child_env = dict(os.environ if env is None else env)
        child_env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(REPO_ROOT), child_env.get("PYTHONPATH", "")) if p
        )
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            env=child_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children.append(child)
        return child

    yield start
    for child in children:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)


def read_json_line(child: subprocess.Popen[str], timeout: float = 20.0) -> dict[str, object]:
    """The child's next stdout line, parsed as JSON."""
    import selectors

    assert child.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        child.kill()
        _, err = child.communicate(timeout=10)
        raise AssertionError(f"child printed nothing within {timeout} s; stderr:\n{err}")
    line = child.stdout.readline()
    if not line:
        _, err = child.communicate(timeout=10)
        raise AssertionError(f"child exited ({child.returncode}); stderr:\n{err}")
    return dict(json.loads(line))


def no_server_env(tmp_path: Path) -> dict[str, str]:
    """An environment in which no sound server can be reached (and none is autospawned)."""
    env = dict(os.environ)
    for key in ("PULSE_RUNTIME_PATH", "PULSE_CONFIG_PATH", "PULSE_SOURCE", "PULSE_SINK"):
        env.pop(key, None)
    runtime = tmp_path / "no-server"
    runtime.mkdir(mode=0o700)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    env["PULSE_SERVER"] = f"unix:{runtime / 'nothing-here'}"
    return env


ERROR_PROBE = """
    import json
    from fieldkit.errors import AudioError
    def probe(call):
        try:
            call()
        except AudioError as error:
            return {"message": error.message, "hint": error.hint}
        return {"message": None}
"""


def wait_for_audio_on_disk(path: Path, seconds: float, timeout: float = 20.0) -> None:
    """Wait until a recording being written (16 kHz mono, 16-bit) holds `seconds` of audio, judged
    by its size: the crash-safe writer keeps the file current. A busy machine starts and feeds a
    recorder late, so a fixed sleep would not say how much was recorded."""
    wanted = 44 + round(seconds * 16000) * 2
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size >= wanted):
        assert time.monotonic() < deadline, f"{path.name} did not reach {seconds} s of audio"
        time.sleep(0.02)


def wait_for_first_callback(recorder: Recorder, timeout: float = 5.0) -> None:
    # PulseAudio delivers the first block 0.1–2 s after start; play only once capture runs.
    deadline = time.monotonic() + timeout
    while recorder.stats.callbacks == 0:
        assert time.monotonic() < deadline, "no audio callback from the sound server"
        time.sleep(0.02)
