"""A user mistake in the app's words. The services' hints name the command that fixes a
mistake (they are written for the command line); in the app the same fix is a key, and a
reviewer should never be sent to the command line."""

from __future__ import annotations

from fieldkit.errors import FieldkitError

# (what a service's hint mentions, what to say in the app instead; "" drops the hint), first
# match wins, so the longer command comes first.
APP_HINTS: tuple[tuple[str, str], ...] = (
    (
        "fieldkit approval receive or decide",
        "store the returned copy (v) or record the decision (d)",
    ),
    ("fieldkit approval reviewed", "review it (Enter), then sign it off (r)"),
    ("fieldkit approval send", "send the participant's copy (s)"),
    ("fieldkit approval receive", "store the returned copy first (v)"),
    ("fieldkit approval decide", "record the decision (d)"),
    ("fieldkit approval status", ""),
    ("fieldkit deidentify", "de-identify it first (D on the interview queue)"),
    ("fieldkit interviews", ""),
    ("fieldkit transcribe", "wait for its transcription on the interview queue"),
    ("--wave", "highlight the row of that wave instead"),
    ("fieldkit ", ""),
)


def in_app_words(error: FieldkitError) -> str:
    """The error as one line, its hint turned into the app's keys where it names a command."""
    hint = error.hint
    for command, instead in APP_HINTS:
        if command in hint:
            hint = instead
            break
    return as_sentence(FieldkitError(error.message, hint).one_line())


def as_sentence(text: str) -> str:
    """A message as the app shows it: a sentence that starts with a capital ("The transcript
    of …"; the services write their messages for the command line's "error: the transcript
    of …"). A first word that is a command, a file or a setting keeps its case."""
    first = text.split(" ", 1)[0]
    if not text or first == "fieldkit" or any(mark in first for mark in "./_`'\""):
        return text
    return text[0].upper() + text[1:]
