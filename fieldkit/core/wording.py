"""Counts in plain words: "1 turn", "2 turns" — never "turn(s)"."""

from __future__ import annotations


def counted(n: int, one: str, many: str = "") -> str:
    """ "1 file", "3 files", "0 files"; `many` for a plural that is not `one` + "s"
    ("1 note or marker", "2 notes or markers")."""
    return f"{n} {one if n == 1 else many or one + 's'}"
