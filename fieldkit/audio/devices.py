"""Input devices through PortAudio (sounddevice), imported lazily so the rest of fieldkit starts
fast and works without PortAudio installed."""

from __future__ import annotations

import atexit
import contextlib
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from fieldkit.errors import AudioError

PORTAUDIO_HINT = "install it: sudo apt-get install libportaudio2"
NO_DEVICE_HINT = (
    "connect a microphone (and check that the sound server is running), "
    "or record from a file with --input FILE"
)


_stderr_lock = threading.RLock()


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Point the process's stderr (file descriptor 2) at /dev/null for the duration of a
    PortAudio call, then put it back.

    PortAudio and the libraries under it (ALSA, JACK) print their own complaints ("ALSA lib
    pulse.c: Unable to connect", "jack server is not running", "Expression … failed") straight to
    descriptor 2, past Python; fieldkit says what went wrong in its own words instead. Keep the
    block short: anything else written to descriptor 2 meanwhile is lost too (the app redraws its
    screen afterwards). Serialised, so two threads never swap the descriptor under each other.
    """
    with _stderr_lock:
        with contextlib.suppress(Exception):  # what Python buffered is ours: let it out first
            sys.stderr.flush()
        try:
            saved = os.dup(2)
        except OSError:  # no stderr at all: nothing to silence
            yield
            return
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(devnull, 2)
            finally:
                os.close(devnull)
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def load_sounddevice() -> ModuleType:
    """Import sounddevice (it initialises PortAudio); a missing PortAudio library becomes a
    one-line AudioError. PortAudio's own messages on stderr are silenced."""
    if "sounddevice" in sys.modules:
        return sys.modules["sounddevice"]
    try:
        with native_stderr_silenced():
            sd = importlib.import_module("sounddevice")
    except OSError as error:
        if "PortAudio library not found" in str(error):
            raise AudioError("PortAudio library not found", PORTAUDIO_HINT) from error
        raise AudioError(f"cannot load PortAudio: {error}", PORTAUDIO_HINT) from error
    _quiet_exit_handler(sd)
    return sd


def _quiet_exit_handler(sd: ModuleType) -> None:
    """sounddevice terminates PortAudio at exit, where JACK likes to say goodbye on stderr."""
    handler = getattr(sd, "_exit_handler", None)
    if handler is None:
        return
    atexit.unregister(handler)

    def quiet_exit() -> None:
        with native_stderr_silenced():
            handler()

    atexit.register(quiet_exit)


def rescan_devices() -> None:
    """Make PortAudio scan devices again (it only does so when it initialises).

    Needed after a sound server started or stopped, or a USB microphone was plugged in. Never call
    it while a stream is open: re-initialising PortAudio invalidates every open stream.
    """
    sd = load_sounddevice()
    with native_stderr_silenced():
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
        with native_stderr_silenced():
            devices = sd.query_devices()
            default_index = _default_input_index(sd)
    except sd.PortAudioError as error:
        raise AudioError("no input device found", NO_DEVICE_HINT) from error
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
