"""Handing an unlocked study's data key to a child process: over a pipe, never argv or env.

A process's arguments are visible to every user (`ps`), and its environment to the same user's
programs (/proc/PID/environ) and to its own children. A pipe is read once, by the child alone.
The parent writes one line — the key in hex — to the child's stdin and closes it; the child reads
that line before anything else.
"""

from __future__ import annotations

import binascii
from typing import IO

from fieldkit.crypto.errors import CryptoError
from fieldkit.crypto.keys import DATA_KEY_BYTES, DataKey

# The argument telling a child to read the key from stdin (the flag only: the key never goes there).
KEY_ON_STDIN = "--key-on-stdin"


def send_key(stream: IO[bytes], key: DataKey, keep_open: bool = False) -> None:
    """Write the key as the first line of a child's stdin and close it (`keep_open`: leave it
    open, for a child that is told more over the same pipe, or told to stop by its closing)."""
    try:
        stream.write(key.secret.hex().encode("ascii") + b"\n")
        stream.flush()
    finally:
        if not keep_open:
            stream.close()


def receive_key(stream: IO[bytes]) -> DataKey:
    """The key a parent sent with `send_key` (the first line of `stream`)."""
    line = stream.readline(2 * DATA_KEY_BYTES + 2).strip()
    try:
        secret = binascii.unhexlify(line)
    except (binascii.Error, ValueError):
        secret = b""
    if len(secret) != DATA_KEY_BYTES:
        raise CryptoError(
            "no study key arrived on standard input",
            "this process is started by fieldkit, which sends it the key of an unlocked study",
        )
    return DataKey(secret)
