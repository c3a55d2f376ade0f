"""Names people type: close-match suggestions for a misspelt key, and names safe for file names.

Ground floor: the core (schedule lint), study.toml parsing and the services all use these, so a
misspelt key gets the same "did you mean" everywhere and every name that becomes part of a file
name (participant IDs, wave names) passes the same check.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from fieldkit.errors import FieldkitError

# Letters, digits, '-' and '_': nothing that can climb out of a folder ('/', '..'), hide a file
# ('.' first), or mean something to a shell or another operating system.
_SAFE_NAME = re.compile(r"[A-Za-z0-9_-]+")
SAFE_NAME_MAX = 64
SAFE_NAME_RULE = "only letters, digits, '-' and '_'"


def closest(word: str, allowed: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The allowed word `word` most likely misspells, if any is close enough (difflib's ratio,
    0 to 1, at least `cutoff`)."""
    close = difflib.get_close_matches(word, list(allowed), n=1, cutoff=cutoff)
    return close[0] if close else None


def suggest(word: str, allowed: tuple[str, ...]) -> str:
    """' (did you mean 'x'? expected one of: a, b)', to append to an "unknown …" message."""
    near = closest(word, allowed)
    hint = f"did you mean '{near}'? " if near else ""
    return f" ({hint}expected one of: {', '.join(allowed)})"


def is_safe_name(name: str) -> bool:
    return len(name) <= SAFE_NAME_MAX and _SAFE_NAME.fullmatch(name) is not None


def check_safe_name(name: str, what: str) -> str:
    """`name` unchanged if it may become part of a file name; otherwise one clear error.

    `what` says where the name comes from, e.g. "wave" or "participant ID".
    """
    if is_safe_name(name):
        return name
    if len(name) > SAFE_NAME_MAX:
        problem = f"is longer than {SAFE_NAME_MAX} characters"
    else:
        problem = f"may hold {SAFE_NAME_RULE}"
    raise FieldkitError(
        f"{what} {name!r} {problem}: it becomes part of file names",
        "choose a name like 'follow-up' or 'INTSTA001-PEER'",
    )
