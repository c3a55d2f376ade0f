"""Shared fixtures: every test works in tmp_path and never touches the user's files."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fieldkit.cli import main
from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study, init_study
from tests import soundserver
from tests.requirements import (
    pytest_runtest_makereport,  # noqa: F401  (the hook: requirement skips fail under REQUIRE_ALL)
    require_or_skip,
    require_shared_testdata,
    require_tool,
    shared_testdata_dir,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_TESTDATA = shared_testdata_dir()


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """platformdirs (demo studies, caches) and $FIELDKIT_STUDY point into tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("FIELDKIT_STUDY", raising=False)
    # The transcriber that works while an interview is recorded keeps its ordinary priority in
    # tests: at idle priority it gets no CPU at all while other work keeps both cores busy, and
    # no test could see it at work. tests/services/test_background_priority.py checks the default.
    monkeypatch.setenv("FIELDKIT_BACKGROUND_PRIORITY", "normal")


@pytest.fixture
def study(tmp_path: Path) -> Study:
    return init_study(tmp_path / "study", title="Test study", actor="tester")


@pytest.fixture
def demo_study(tmp_path: Path) -> Study:
    return build_demo_study(tmp_path / "demo")


CliRun = Callable[..., Result]


@pytest.fixture
def cli() -> CliRun:
    """Run `fieldkit ARGS…`; returns click's Result (exit_code, stdout, stderr)."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        return runner.invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)

    return run


@pytest.fixture(scope="session")
def sound_server() -> Iterator[soundserver.SoundServer]:
    """A user-space PulseAudio server: null sink fk_null (default output), its monitor as the
    default input, and a pipe source fk_mic. No sound card here, yet PortAudio sees real devices.

    Started before this process uses PortAudio for the first time; if something imported
    sounddevice earlier, PortAudio is re-initialised so it sees the server's devices.
    Without pulseaudio, or if it will not start, the test skips (fails under FIELDKIT_REQUIRE_ALL).
    """
    server = start_sound_server_or_skip()
    _rescan_portaudio_if_loaded()
    yield server
    server.stop()
    _rescan_portaudio_if_loaded()


def start_sound_server_or_skip(runtime_dir: Path | None = None) -> soundserver.SoundServer:
    """Start the test sound server (see tests/soundserver.py); a missing or broken PulseAudio is
    a skip with the reason, or a failure under FIELDKIT_REQUIRE_ALL."""
    if not soundserver.pulseaudio_available():
        require_or_skip(
            "the `pulseaudio` sound server is not installed "
            "(apt-get install pulseaudio pulseaudio-utils)"
        )
    try:
        if runtime_dir is None:
            return soundserver.start_sound_server()
        return soundserver.start_sound_server(runtime_dir, apply_environ=False)
    except (RuntimeError, OSError, subprocess.SubprocessError) as error:
        require_or_skip(f"the pulseaudio sound server did not start: {error}")


@pytest.fixture(scope="session")
def espeak() -> str:
    """espeak-ng, which synthesizes the tests' speech (tests/speech.py)."""
    return require_tool("espeak-ng", "espeak-ng")


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    """ffmpeg, which makes the compressed audio files the import tests read."""
    return require_tool("ffmpeg", "ffmpeg")


@pytest.fixture
def shared_testdata() -> Path:
    """../shared/testdata (real speech with known transcripts; Project.xsd)."""
    return require_shared_testdata()


def _rescan_portaudio_if_loaded() -> None:
    if "sounddevice" in sys.modules:
        from fieldkit.audio.devices import rescan_devices

        rescan_devices()
