"""Where a passphrase comes from: a file named on the command line, $FIELDKIT_PASSPHRASE, or a
masked prompt on the terminal — in that order. Plain functions the CLI and the app call.

The environment variable is for scripts and tests. Its risks: other programs of the same user may
read a process's environment (/proc/PID/environ), a shell may keep it in its history, and every
child process inherits it unless it is removed: start children with
`environment_without_passphrase()`.
A passphrase file should be owner-only (chmod 600) and kept off shared or synced folders.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from fieldkit.crypto.errors import PassphraseUnavailableError, WeakPassphraseError
from fieldkit.crypto.keys import check_new_passphrase

PASSPHRASE_ENV = "FIELDKIT_PASSPHRASE"
PROMPT_ATTEMPTS = 3

Ask = Callable[[str], str]


def get_passphrase(
    *,
    passphrase_file: Path | None = None,
    new: bool = False,
    environ: Mapping[str, str] | None = None,
    terminal: bool | None = None,
    ask: Ask | None = None,
) -> str:
    """The passphrase from --passphrase-file, else $FIELDKIT_PASSPHRASE, else the terminal.

    `new`: it will protect a new slot, so it is checked for length, and on a terminal it is asked
    twice. `terminal` overrides whether stdin is a terminal; `ask` replaces getpass (tests).
    """
    if passphrase_file is not None:
        passphrase = passphrase_from_file(passphrase_file)
    else:
        from_env = passphrase_from_env(environ)
        if from_env is not None:
            passphrase = from_env
        else:
            if not (stdin_is_terminal() if terminal is None else terminal):
                raise PassphraseUnavailableError(
                    "this study is encrypted and no passphrase was given (no terminal to ask on)",
                    f"use --passphrase-file FILE or set {PASSPHRASE_ENV}",
                )
            return prompt_passphrase(confirm=new, check=new, ask=ask)
    if new:
        check_new_passphrase(passphrase)
    return passphrase


def passphrase_from_file(path: Path) -> str:
    """The first line of FILE, without its line ending (other spaces are part of it)."""
    path = Path(path).expanduser()
    try:
        with path.open("rb") as handle:
            first_line = handle.readline()
    except FileNotFoundError as error:
        raise PassphraseUnavailableError(
            f"passphrase file {path} does not exist", "check the path"
        ) from error
    except IsADirectoryError as error:
        raise PassphraseUnavailableError(
            f"passphrase file {path} is a folder", "give a file whose first line is the passphrase"
        ) from error
    except OSError as error:
        raise PassphraseUnavailableError(
            f"cannot read passphrase file {path}: {error.strerror}", "check its permissions"
        ) from error
    try:
        text = first_line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PassphraseUnavailableError(
            f"passphrase file {path} is not UTF-8 text", "save it as UTF-8"
        ) from error
    passphrase = text.removesuffix("\n").removesuffix("\r")
    if not passphrase:
        raise PassphraseUnavailableError(
            f"the first line of passphrase file {path} is empty",
            "put the passphrase on its first line",
        )
    return passphrase


def passphrase_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """$FIELDKIT_PASSPHRASE, or None when it is not set. Set but empty is a mistake, not absence."""
    value = (os.environ if environ is None else environ).get(PASSPHRASE_ENV)
    if value is None:
        return None
    if value == "":
        raise PassphraseUnavailableError(
            f"{PASSPHRASE_ENV} is set but empty", "set it to the passphrase, or unset it"
        )
    return value


def environment_without_passphrase(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of the environment for a child process: the passphrase is never passed on."""
    env = dict(os.environ if environ is None else environ)
    env.pop(PASSPHRASE_ENV, None)
    return env


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # closed or detached stdin
        return False


def prompt_passphrase(
    label: str = "Passphrase",
    *,
    confirm: bool = False,
    check: bool = False,
    ask: Ask | None = None,
    attempts: int = PROMPT_ATTEMPTS,
) -> str:
    """Ask on the terminal without echo. With `confirm`, ask twice until both match; with
    `check`, ask again while the passphrase is too short. Gives up after `attempts`."""
    read = ask or _getpass
    problem = ""
    for _ in range(attempts):
        if problem:
            _say(f"{problem[0].upper()}{problem[1:]}; try again.")
        passphrase = read(f"{label}: ")
        if not passphrase:
            problem = "the passphrase is empty"
            continue
        if check:
            try:
                check_new_passphrase(passphrase)
            except WeakPassphraseError as error:
                problem = error.message
                continue
        if confirm and read(f"{label} again: ") != passphrase:
            problem = "the two passphrases differ"
            continue
        return passphrase
    raise PassphraseUnavailableError(
        f"no passphrase after {attempts} tries ({problem})",
        "run the command again",
    )


def _getpass(prompt: str) -> str:
    import getpass

    try:
        return getpass.getpass(prompt, stream=sys.stderr)
    except EOFError as error:
        raise PassphraseUnavailableError(
            "no passphrase was entered (end of input)", "run the command again"
        ) from error


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
