"""`fieldkit encrypt` and `fieldkit decrypt` killed part-way, on both sides of the switch: the study
then opens as exactly the old one or the new one, with all its data, and running the command
again finishes the job, leaving no plain copy (encrypt) or encrypted leftover (decrypt).

Two ways to stop it: at each named step (FIELDKIT_TEST_CRASH_AT makes the process end there at
once, as kill -9 would), and with a real SIGKILL at moments seen from outside (a new recording
half-written, the new database being built, the key slots just in place, old copies going)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from fieldkit.crypto import keys
from fieldkit.services.conversion import (
    CRASH_EXIT_CODE,
    CRASH_POINTS,
    CRASH_POINTS_BEFORE_SWITCH,
    Direction,
)
from tests.conftest import CliRun
from tests.conversion.study import (
    REPO_ROOT,
    State,
    Templates,
    child_command,
    child_env,
    content,
    plain_leftovers,
    run_child,
    state_of,
)
from tests.encrypted import PASSPHRASE, RECOVERY_KEY_LINE, use_fast_kdf

ENCRYPT_ONLY = ("slots-staged", "recovery-key-shown")
OLD: dict[Direction, State] = {"encrypt": "plain", "decrypt": "encrypted"}
NEW: dict[Direction, State] = {"encrypt": "encrypted", "decrypt": "plain"}


@pytest.fixture(autouse=True)
def passphrase_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    use_fast_kdf(monkeypatch)
    monkeypatch.setenv("FIELDKIT_PASSPHRASE", PASSPHRASE)


def command(direction: Direction, root: Path) -> list[object]:
    return (
        [direction, "--yes", "--study", root]
        if direction == "decrypt"
        else [direction, "--study", root]
    )


def check_opens_as(root: Path, expected: State, templates: Templates) -> None:
    assert state_of(root) == expected
    assert content(root, PASSPHRASE if expected == "encrypted" else None) == templates.content


def check_finished(root: Path, direction: Direction, templates: Templates) -> None:
    check_opens_as(root, NEW[direction], templates)
    assert not (root / ".conversion").exists()
    audio = sorted(p.suffix for p in (root / "audio").iterdir())
    assert audio == [".fka" if direction == "encrypt" else ".wav"] * 5
    assert not list(root.glob("fieldkit.db-*"))
    if direction == "encrypt":
        assert plain_leftovers(root) == {}


def rerun(cli: CliRun, direction: Direction, root: Path) -> str:
    result = cli(*command(direction, root))
    assert result.exit_code == 0, result.stderr
    assert "finished an interrupted" in result.stderr or "took back" in result.stderr
    return str(result.stdout)


def the_recovery_key_works(root: Path, *outputs: str) -> None:
    """Whichever run printed it (the killed one after the switch, or else the re-run), exactly
    one recovery key was printed that opens the study."""
    printed = [key for output in outputs for key in RECOVERY_KEY_LINE.findall(output)]
    assert len(printed) == 1, outputs
    keys.unlock_with_recovery_key(root, printed[0])


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_encrypt_killed_at_each_step_then_run_again(
    point: str,
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
) -> None:
    root = conversion_templates.copy("plain", tmp_path / "study")
    crashed = run_child(*command("encrypt", root), crash_at=point)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr

    before_switch = point in CRASH_POINTS_BEFORE_SWITCH
    check_opens_as(root, "plain" if before_switch else "encrypted", conversion_templates)

    again = rerun(cli, "encrypt", root)
    check_finished(root, "encrypt", conversion_templates)
    the_recovery_key_works(root, crashed.stdout, again)


@pytest.mark.parametrize("point", [p for p in CRASH_POINTS if p not in ENCRYPT_ONLY])
def test_decrypt_killed_at_each_step_then_run_again(
    point: str,
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
) -> None:
    root = conversion_templates.copy("encrypted", tmp_path / "study")
    crashed = run_child(*command("decrypt", root), crash_at=point)
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stderr

    before_switch = point in CRASH_POINTS_BEFORE_SWITCH
    check_opens_as(root, "encrypted" if before_switch else "plain", conversion_templates)

    rerun(cli, "decrypt", root)
    check_finished(root, "decrypt", conversion_templates)
    assert not (root / "keyslots.json").exists()


def test_an_interrupted_decrypt_is_taken_back_by_encrypt(
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
) -> None:
    """Plain copies an unfinished decrypt left in an encrypted study go with `fieldkit encrypt`."""
    root = conversion_templates.copy("encrypted", tmp_path / "study")
    crashed = run_child(*command("decrypt", root), crash_at="before-switch")
    assert crashed.returncode == CRASH_EXIT_CODE
    assert list((root / "audio").glob("*.wav"))  # plain copies made before the switch

    result = cli("encrypt", "--study", root)
    assert result.exit_code == 0, result.stderr
    assert "stays encrypted" in result.stdout
    check_finished(root, "encrypt", conversion_templates)


# -- SIGKILL at moments seen from outside --------------------------------------------------------

Moment = Callable[[Path, Direction], bool]


def new_recordings(root: Path, direction: Direction) -> list[Path]:
    suffix = ".fka" if direction == "encrypt" else ".wav"
    return [p for p in (root / "audio").iterdir() if p.suffix == suffix]


def old_recordings(root: Path, direction: Direction) -> list[Path]:
    suffix = ".fka" if direction == "decrypt" else ".flac"
    return [p for p in (root / "audio").iterdir() if p.suffix == suffix]


MOMENTS: dict[str, Moment] = {
    "first new recording started": lambda root, d: bool(new_recordings(root, d)),
    "third new recording started": lambda root, d: len(new_recordings(root, d)) >= 3,
    "new database being built": lambda root, d: (root / ".conversion" / "fieldkit.db").exists(),
    "key slots switched": lambda root, d: keys.has_key_slots(root) == (d == "encrypt"),
    "old recordings going": lambda root, d: len(old_recordings(root, d)) < 5,
}


def kill_when(process: subprocess.Popen[str], moment: Callable[[], bool]) -> bool:
    """SIGKILL the process as soon as `moment()` holds; False if it finished first."""
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if moment():
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.001)
    process.wait()
    return False


@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
@pytest.mark.parametrize("moment", list(MOMENTS))
def test_killed_with_sigkill_at_a_moment_then_run_again(
    direction: Direction,
    moment: str,
    conversion_templates: Templates,
    tmp_path: Path,
    cli: CliRun,
) -> None:
    root = conversion_templates.copy(OLD[direction], tmp_path / "study")
    process = subprocess.Popen(
        child_command(*command(direction, root)),
        env=child_env(),
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    killed = kill_when(process, lambda: MOMENTS[moment](root, direction))
    state = state_of(root)  # one or the other, wholly (state_of checks that)
    assert state in ("plain", "encrypted")
    check_opens_as(root, state, conversion_templates)
    if killed and moment in ("key slots switched", "old recordings going"):
        assert state == NEW[direction]
    if not killed:
        assert process.returncode == 0
        return
    result = cli(*command(direction, root))
    assert result.exit_code == 0, result.stderr
    check_finished(root, direction, conversion_templates)
