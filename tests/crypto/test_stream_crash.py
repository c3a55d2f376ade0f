"""kill -9 of a real writer process mid-recording: recovery keeps all but the last ≤ 2 s."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from fieldkit.crypto.keys import DataKey
from fieldkit.crypto.stream import EncryptedAudioReader, check_recording

REPO_ROOT = Path(__file__).resolve().parents[2]
RATE, CHANNELS, BLOCK = 48000, 2, 4800

# The child records deterministic noise in real time (one 0.1 s block every 0.1 s), as capture
# does. The key arrives on stdin, never in argv or the environment.
WRITER = """
    import json, sys, time
    from pathlib import Path
    import numpy as np
    from fieldkit.crypto.keys import DataKey
    from fieldkit.crypto.stream import EncryptedAudioWriter
    key = DataKey(bytes.fromhex(sys.stdin.readline().strip()))
    rng = np.random.default_rng(11)
    audio = rng.integers(-20000, 20000, (60 * {rate}, {channels}), dtype=np.int16)
    writer = EncryptedAudioWriter(Path(sys.argv[1]), key, {rate}, {channels})
    started = time.monotonic()
    for number in range(600):
        writer.write(audio[number * {block} : (number + 1) * {block}])
        if number == 0:
            print(json.dumps({{"recording": True}}), flush=True)
        time.sleep(max(0.0, started + (number + 1) * 0.1 - time.monotonic()))
"""


def expected_audio() -> np.ndarray:
    rng = np.random.default_rng(11)
    return rng.integers(-20000, 20000, (60 * RATE, CHANNELS), dtype=np.int16)


def wait_for_line(child: subprocess.Popen[str], timeout: float = 30.0) -> dict[str, object]:
    assert child.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(child.stdout, selectors.EVENT_READ)
    if not selector.select(timeout):
        child.kill()
        raise AssertionError(f"the writer said nothing; stderr: {child.communicate()[1]}")
    line = child.stdout.readline()
    assert line, f"the writer exited; stderr: {child.communicate()[1]}"
    return dict(json.loads(line))


def test_kill_9_mid_recording_loses_at_most_two_seconds(tmp_path: Path) -> None:
    key = DataKey.generate()
    target = tmp_path / "killed.fka"
    code = textwrap.dedent(WRITER.format(rate=RATE, channels=CHANNELS, block=BLOCK))
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    child = subprocess.Popen(
        [sys.executable, "-c", code, str(target)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert child.stdin is not None
        child.stdin.write(key.secret.hex() + "\n")
        child.stdin.flush()
        assert wait_for_line(child) == {"recording": True}
        recording_since = time.monotonic()
        time.sleep(3.0)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        spoken = time.monotonic() - recording_since
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=10)

    result = check_recording(target, key)
    assert result.ending == "cut-off", result.message
    assert spoken - 2.0 <= result.duration_s <= spoken + 0.2
    with EncryptedAudioReader(target, key) as reader:
        kept = reader.read(dtype="int16")
    assert len(kept) == result.frames
    assert np.array_equal(kept, expected_audio()[: len(kept)])  # exactly what was heard
    assert check_recording(target, key) == result  # checking changes nothing
