"""Where the passphrase comes from: --passphrase-file, $FIELDKIT_PASSPHRASE, the terminal."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldkit.crypto.errors import PassphraseUnavailableError, WeakPassphraseError
from fieldkit.crypto.passphrase import (
    PASSPHRASE_ENV,
    environment_without_passphrase,
    get_passphrase,
    passphrase_from_file,
    prompt_passphrase,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


def answers(*replies: str) -> tuple[list[str], object]:
    """A stand-in for getpass: returns the replies in turn and records the prompts."""
    prompts: list[str] = []
    queue = list(replies)

    def ask(prompt: str) -> str:
        prompts.append(prompt)
        return queue.pop(0)

    return prompts, ask


def test_file_gives_its_first_line_without_the_line_ending(tmp_path: Path) -> None:
    path = tmp_path / "pass.txt"
    path.write_bytes(b"  spaces count  \r\nsecond line\n")
    assert passphrase_from_file(path) == "  spaces count  "
    path.write_bytes("no newline at all é".encode())
    assert passphrase_from_file(path) == "no newline at all é"


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), (b"\nsecret\n", "is empty"), (b"\xff\xfe\n", "not UTF-8")],
)
def test_file_problems_are_one_line(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "pass.txt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PassphraseUnavailableError, match=message) as caught:
        passphrase_from_file(path)
    assert "\n" not in caught.value.one_line()


def test_a_folder_is_not_a_passphrase_file(tmp_path: Path) -> None:
    with pytest.raises(PassphraseUnavailableError, match="is a folder"):
        passphrase_from_file(tmp_path)


def test_the_file_option_wins_over_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "pass.txt"
    path.write_text("from the file\n")
    env = {PASSPHRASE_ENV: "from the environment"}
    assert get_passphrase(passphrase_file=path, environ=env, terminal=True) == "from the file"
    assert get_passphrase(environ=env, terminal=True) == "from the environment"


def test_an_empty_environment_variable_is_a_mistake() -> None:
    with pytest.raises(PassphraseUnavailableError, match="set but empty"):
        get_passphrase(environ={PASSPHRASE_ENV: ""}, terminal=True)


def test_no_passphrase_and_no_terminal_is_one_clear_line() -> None:
    with pytest.raises(PassphraseUnavailableError) as caught:
        get_passphrase(environ={}, terminal=False)
    line = caught.value.one_line()
    assert "\n" not in line and "no terminal" in line
    assert "--passphrase-file" in line and PASSPHRASE_ENV in line


def test_a_new_passphrase_from_a_script_is_checked_for_length() -> None:
    with pytest.raises(WeakPassphraseError):
        get_passphrase(environ={PASSPHRASE_ENV: "short"}, new=True)
    assert get_passphrase(environ={PASSPHRASE_ENV: "short"}) == "short"  # opening: no check


def test_a_new_passphrase_is_asked_twice_until_both_match() -> None:
    prompts, ask = answers("first try here", "different one", "second try ok", "second try ok")
    result = get_passphrase(environ={}, terminal=True, new=True, ask=ask)  # type: ignore[arg-type]
    assert result == "second try ok"
    assert prompts == ["Passphrase: ", "Passphrase again: "] * 2


def test_opening_asks_once() -> None:
    prompts, ask = answers("whatever it is")
    assert get_passphrase(environ={}, terminal=True, ask=ask) == "whatever it is"  # type: ignore[arg-type]
    assert prompts == ["Passphrase: "]


def test_prompting_gives_up_after_three_tries() -> None:
    _prompts, ask = answers("tiny", "", "small")
    with pytest.raises(PassphraseUnavailableError, match="after 3 tries"):
        prompt_passphrase(confirm=True, check=True, ask=ask)  # type: ignore[arg-type]


def test_children_do_not_inherit_the_passphrase() -> None:
    env = environment_without_passphrase({PASSPHRASE_ENV: "secret words", "HOME": "/home/x"})
    assert env == {"HOME": "/home/x"}


# -- a real terminal -----------------------------------------------------------------------------

PROMPT_IN_TERMINAL = """
    import fcntl, json, os, sys, termios
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)  # the pty becomes this session's terminal (/dev/tty)
    from fieldkit.crypto.passphrase import get_passphrase
    os.environ.pop("FIELDKIT_PASSPHRASE", None)
    value = get_passphrase(new=True)
    print("RESULT " + json.dumps(value), flush=True)
"""


@pytest.fixture
def terminal_child() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    controller, terminal = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    env.pop(PASSPHRASE_ENV, None)
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(PROMPT_IN_TERMINAL)],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env,
        start_new_session=True,
    )
    os.close(terminal)
    try:
        yield child, controller
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(timeout=10)
        os.close(controller)


def read_until(fd: int, wanted: bytes, seen: bytearray, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"waited for {wanted!r}, terminal shows {bytes(seen)!r}"
        if select.select([fd], [], [], remaining)[0]:
            try:
                seen.extend(os.read(fd, 1024))
            except OSError:  # the child closed the terminal
                break


def test_the_terminal_prompt_is_masked_and_asks_twice(
    terminal_child: tuple[subprocess.Popen[bytes], int],
) -> None:
    child, controller = terminal_child
    seen = bytearray()
    read_until(controller, b"Passphrase: ", seen)
    os.write(controller, b"typed in secret\n")
    read_until(controller, b"Passphrase again: ", seen)
    os.write(controller, b"typed in secret\n")
    read_until(controller, b'secret"', seen)  # the end of the result line
    child.wait(timeout=20)
    screen = bytes(seen)
    assert b'RESULT "typed in secret"' in screen
    assert screen.count(b"typed in secret") == 1  # only the result line: nothing was echoed
