"""A throw-away user-space PulseAudio server, so PortAudio sees real devices on a machine without a
sound card (CI, containers). Follows "Sound server for tests" in GUIDE.md.

The server offers:
  * `fk_null` — a null sink (48 kHz stereo); its monitor `fk_null.monitor` is the default source, so
    whatever `paplay` plays into the sink can be recorded back (loopback);
  * `fk_mic` — a pipe source fed from `<runtime_dir>/fk_mic.fifo` (s16le, 16 kHz, mono):
    bit-exact input.

Use it from pytest (see tests/audio/conftest.py), as a context manager, or from a shell:

    python tests/soundserver.py run -- pytest tests/audio     # start, run the command, stop

PortAudio scans devices when it initialises (at `import sounddevice`), so start the server before
sounddevice is first imported, or call `fieldkit.audio.devices.rescan_devices()` afterwards.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

SINK = "fk_null"
MONITOR = f"{SINK}.monitor"
MIC = "fk_mic"
MIC_RATE = 16000
SINK_RATE = 48000
_STARTUP_TIMEOUT_S = 10.0


def pulseaudio_available() -> bool:
    """True when the `pulseaudio` and `pactl` binaries are installed."""
    return shutil.which("pulseaudio") is not None and shutil.which("pactl") is not None


@dataclass
class SoundServer:
    """A running PulseAudio server and the environment clients need to reach it."""

    runtime_dir: Path
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)
    _owns_runtime_dir: bool = False
    _saved_environ: dict[str, str | None] = field(default_factory=dict)

    @property
    def mic_fifo(self) -> Path:
        """Write s16le 16 kHz mono here to feed the `fk_mic` source."""
        return self.runtime_dir / "fk_mic.fifo"

    @property
    def log_path(self) -> Path:
        return self.runtime_dir / "pulse.log"

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def client_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """An environment for a subprocess that should use this server."""
        merged = dict(os.environ if base is None else base)
        merged.update(self.env)
        return merged

    def pactl(self, *args: str) -> str:
        """Run pactl against this server and return its stdout."""
        done = subprocess.run(
            ["pactl", *args],
            env=self.client_env(),
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return done.stdout

    def kill(self) -> None:
        """Kill the server abruptly (simulates an unplugged device / crashed server)."""
        if self.running:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """Stop the server, restore the environment and remove the runtime folder we made."""
        if self.running:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()
        self._restore_environ()
        if self._owns_runtime_dir:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def apply_to_environ(self) -> None:
        """Point this process's PulseAudio clients (PortAudio's ALSA pulse plugin) at the server."""
        for key, value in self.env.items():
            self._saved_environ.setdefault(key, os.environ.get(key))
            os.environ[key] = value

    def _restore_environ(self) -> None:
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environ.clear()


def _server_command(runtime_dir: Path) -> list[str]:
    fifo = runtime_dir / "fk_mic.fifo"
    return [
        "pulseaudio",
        "--daemonize=no",
        "--exit-idle-time=-1",
        "--disallow-exit",
        "-n",  # no default.pa: only the modules below
        "--load=module-native-protocol-unix",
        f"--load=module-null-sink sink_name={SINK} rate={SINK_RATE} channels=2",
        f"--load=module-pipe-source source_name={MIC} file={fifo} "
        f"format=s16le rate={MIC_RATE} channels=1",
    ]


def start_sound_server(
    runtime_dir: Path | None = None, *, apply_environ: bool = True
) -> SoundServer:
    """Start PulseAudio with a null sink and a pipe source; return once clients can connect.

    With `apply_environ`, XDG_RUNTIME_DIR (and PULSE_* overrides cleared) are set in os.environ
    until `stop()`, so in-process PortAudio and child processes use this server.
    """
    if not pulseaudio_available():
        raise RuntimeError(
            "pulseaudio/pactl not installed (apt-get install pulseaudio pulseaudio-utils)"
        )
    owns = runtime_dir is None
    runtime = Path(tempfile.mkdtemp(prefix="fk-pulse-")) if runtime_dir is None else runtime_dir
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = {
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_RUNTIME_PATH": str(runtime / "pulse"),
        "PULSE_SERVER": f"unix:{runtime / 'pulse' / 'native'}",
        # A private HOME-like config dir keeps the user's ~/.config/pulse out of the way.
        "PULSE_CONFIG_PATH": str(runtime / "pulse-config"),
    }
    server_env = dict(os.environ)
    server_env.update(env)
    server_env.pop("PULSE_SERVER")  # the server itself must not try to reach a server
    server_env.pop("PULSE_SOURCE", None)
    server_env.pop("PULSE_SINK", None)
    log = (runtime / "pulse.log").open("wb")
    process = subprocess.Popen(
        _server_command(runtime),
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C in the terminal must not kill it before our cleanup
    )
    log.close()
    server = SoundServer(runtime_dir=runtime, process=process, env=env, _owns_runtime_dir=owns)
    try:
        _wait_until_ready(server)
        server.pactl("set-default-sink", SINK)
        server.pactl("set-default-source", MONITOR)
    except BaseException:
        server.stop()
        raise
    if apply_environ:
        server.apply_to_environ()
    return server


def _wait_until_ready(server: SoundServer) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if not server.running:
            log = server.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"pulseaudio exited at start-up:\n{log}")
        probe = subprocess.run(
            ["pactl", "info"], env=server.client_env(), capture_output=True, timeout=10
        )
        if probe.returncode == 0:
            return
        time.sleep(0.05)
    raise RuntimeError(f"pulseaudio did not answer within {_STARTUP_TIMEOUT_S:.0f} s")


@contextmanager
def sound_server(
    runtime_dir: Path | None = None, *, apply_environ: bool = True
) -> Iterator[SoundServer]:
    """`with sound_server() as server:` — started on entry, stopped on exit."""
    server = start_sound_server(runtime_dir, apply_environ=apply_environ)
    try:
        yield server
    finally:
        server.stop()


def _main(argv: list[str]) -> int:
    usage = "usage: python tests/soundserver.py run -- COMMAND [ARGS...]"
    if len(argv) < 2 or argv[0] != "run":
        print(usage, file=sys.stderr)
        return 2
    command = argv[2:] if argv[1] == "--" else argv[1:]
    if not command:
        print(usage, file=sys.stderr)
        return 2
    with sound_server() as server:
        print(f"sound server up: XDG_RUNTIME_DIR={server.runtime_dir}", file=sys.stderr)
        return subprocess.call(command, env=server.client_env())


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
