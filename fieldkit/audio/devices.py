"""Input devices through PortAudio (sounddevice), imported lazily so the rest of fieldkit starts
fast and works without PortAudio installed."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from fieldkit.errors import AudioError

PORTAUDIO_HINT = "install it: sudo apt-get install libportaudio2"
NO_DEVICE_HINT = (
    "connect a microphone (and check that the sound server is running), "
    "or record from a file with --input FILE"
)


def load_sounddevice() -> ModuleType:
    """Import sounddevice; a missing PortAudio library becomes a one-line AudioError."""
    try:
        return importlib.import_module("sounddevice")
    except OSError as error:
        if "PortAudio library not found" in str(error):
            raise AudioError("PortAudio library not found", PORTAUDIO_HINT) from error
        raise AudioError(f"cannot load PortAudio: {error}", PORTAUDIO_HINT) from error


def rescan_devices() -> None:
    """Make PortAudio scan devices again (it only does so when it initialises).

    Needed after a sound server started or stopped, or a USB microphone was plugged in. Never call
    it while a stream is open: re-initialising PortAudio invalidates every open stream.
    """
    sd = load_sounddevice()
    sd._terminate()
    sd._initialize()


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    max_channels: int
    default_samplerate: float
    is_default: bool


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel, the default one marked."""
    sd = load_sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as error:
        raise AudioError("no input device found", NO_DEVICE_HINT) from error
    default_index = _default_input_index(sd)
    found = [
        InputDevice(
            index=int(info["index"]),
            name=str(info["name"]),
            max_channels=int(info["max_input_channels"]),
            default_samplerate=float(info["default_samplerate"]),
            is_default=int(info["index"]) == default_index,
        )
        for info in _as_list(devices)
        if int(info["max_input_channels"]) > 0
    ]
    if not found:
        raise AudioError("no input device found", NO_DEVICE_HINT)
    return found


def resolve_input_device(spec: str | int | None) -> InputDevice:
    """The device for `--device`: None → the default, an index, or a case-insensitive name part."""
    devices = list_input_devices()
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        return _default_device(devices)
    if isinstance(spec, int) or spec.strip().isdigit():
        return _device_by_index(devices, int(spec))
    return _device_by_name(devices, spec.strip())


def _default_device(devices: list[InputDevice]) -> InputDevice:
    for device in devices:
        if device.is_default:
            return device
    # PortAudio may report no default while devices exist: the first input is the best guess.
    return devices[0]


def _device_by_index(devices: list[InputDevice], index: int) -> InputDevice:
    for device in devices:
        if device.index == index:
            return device
    raise AudioError(f"no input device with index {index}", _choices_hint(devices))


def _device_by_name(devices: list[InputDevice], name: str) -> InputDevice:
    wanted = name.casefold()
    exact = [d for d in devices if d.name.casefold() == wanted]
    if exact:
        return exact[0]
    partial = [d for d in devices if wanted in d.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise AudioError(f"no input device matching {name!r}", _choices_hint(devices))
    names = ", ".join(f"{d.index}: {d.name}" for d in partial)
    raise AudioError(
        f"more than one input device matches {name!r} ({names})", "give the device's index instead"
    )


def _choices_hint(devices: list[InputDevice]) -> str:
    names = ", ".join(f"{d.index}: {d.name}" for d in devices)
    return f"choose one of: {names} (see `fieldkit devices`)"


def _default_input_index(sd: Any) -> int:
    try:
        default = sd.default.device[0]
        if default is None or int(default) < 0:
            return int(sd.query_devices(kind="input")["index"])
        return int(default)
    except (sd.PortAudioError, TypeError, ValueError):
        return -1


def _as_list(devices: Any) -> list[dict[str, Any]]:
    # query_devices() returns a DeviceList (a tuple of dicts); a single dict when only one exists.
    return [devices] if isinstance(devices, dict) else list(devices)
