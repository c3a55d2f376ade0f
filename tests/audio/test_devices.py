"""Input devices as PortAudio sees them on a real (user-space) sound server."""

from __future__ import annotations

from pathlib import Path

import pytest

from fieldkit.audio.devices import list_input_devices, load_sounddevice, resolve_input_device
from fieldkit.errors import AudioError

from .conftest import ERROR_PROBE, ChildRunner, no_server_env, read_json_line


def test_lists_the_servers_inputs_and_marks_the_default(sound_server: object) -> None:
    devices = list_input_devices()

    names = [device.name for device in devices]
    assert "default" in names and "pulse" in names
    assert sum(device.is_default for device in devices) == 1
    assert all(device.max_channels >= 1 for device in devices)


def test_resolves_by_default_index_and_name_part(sound_server: object) -> None:
    default = resolve_input_device(None)
    pulse = resolve_input_device("PULS")  # case-insensitive name part

    assert default.is_default
    assert pulse.name == "pulse"
    assert resolve_input_device(pulse.index) == pulse
    assert resolve_input_device(str(pulse.index)) == pulse


def test_unknown_device_name_says_which_devices_exist(sound_server: object) -> None:
    with pytest.raises(AudioError, match="no input device matching 'zoom-h5'") as caught:
        resolve_input_device("zoom-h5")

    assert "pulse" in caught.value.hint and "fieldkit devices" in caught.value.hint


def test_unknown_device_index_is_an_audio_error(sound_server: object) -> None:
    with pytest.raises(AudioError, match="no input device with index 999"):
        resolve_input_device(999)


def test_no_sound_server_means_a_clear_no_input_device_error(
    tmp_path: Path, start_child: ChildRunner
) -> None:
    child = start_child(
        ERROR_PROBE
        + """
    from fieldkit.audio.devices import list_input_devices
    from fieldkit.audio.capture import Recorder, CaptureSettings
    from pathlib import Path
    target = Path(TARGET)
    print(json.dumps({
        "list": probe(list_input_devices),
        "record": probe(lambda: Recorder(target, CaptureSettings()).start()),
        "file_left": target.exists(),
    }))
    """.replace("TARGET", repr(str(tmp_path / "never.wav"))),
        env=no_server_env(tmp_path),
    )
    report = read_json_line(child)

    for key in ("list", "record"):
        assert report[key]["message"] == "no input device found"  # type: ignore[index]
        assert "--input FILE" in report[key]["hint"]  # type: ignore[index]
    assert report["file_left"] is False


def test_missing_portaudio_library_says_how_to_install_it(start_child: ChildRunner) -> None:
    # The real import path of sounddevice, with the library lookup failing as on a bare system.
    child = start_child(
        ERROR_PROBE
        + """
    import ctypes.util
    ctypes.util.find_library = lambda name: None
    from fieldkit.audio.devices import load_sounddevice
    print(json.dumps(probe(load_sounddevice)))
    """
    )
    report = read_json_line(child)

    assert report == {
        "message": "PortAudio library not found",
        "hint": "install it: sudo apt-get install libportaudio2",
    }


def test_load_sounddevice_returns_the_module() -> None:
    assert load_sounddevice().__name__ == "sounddevice"
