"""Shared fixtures: every test works in tmp_path and never touches the user's files."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from fieldkit.cli import main
from fieldkit.services.demo import build_demo_study
from fieldkit.services.study import Study, init_study
from tests import soundserver

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_TESTDATA = REPO_ROOT.parent / "shared" / "testdata"


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """platformdirs (demo studies, caches) and $FIELDKIT_STUDY point into tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("FIELDKIT_STUDY", raising=False)


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
    """
    if not soundserver.pulseaudio_available():
        pytest.skip("the `pulseaudio` binary is not installed (apt-get install pulseaudio)")
    server = soundserver.start_sound_server()
    _rescan_portaudio_if_loaded()
    yield server
    server.stop()
    _rescan_portaudio_if_loaded()


def _rescan_portaudio_if_loaded() -> None:
    if "sounddevice" in sys.modules:
        from fieldkit.audio.devices import rescan_devices

        rescan_devices()
