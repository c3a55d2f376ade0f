"""The live guard's engine process: `python -m fieldkit.transcribe.live_engine MODEL_DIR [WORD…]`.

A plain child process (not multiprocessing) so it starts the same way under the CLI, the app and
tests. It reads chunks from stdin and writes words to stdout, as length-prefixed pickles between
two fieldkit processes of the same install. It loads the model once and never logs speech.
"""

from __future__ import annotations

import os
import pickle
import struct
import sys
from pathlib import Path
from typing import IO, Any

HEADER = struct.Struct("!I")
ENGINE_THREADS = 1  # leave the other core to the app and the recording


def send(stream: IO[bytes], message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: IO[bytes]) -> Any:
    """The next message, or None at end of stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def main(argv: list[str]) -> int:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from fieldkit.errors import FieldkitError
    from fieldkit.private import set_owner_only_umask
    from fieldkit.transcribe.live import transcribe_chunk
    from fieldkit.transcribe.loading import load_model
    from fieldkit.transcribe.options import EngineOptions

    set_owner_only_umask()  # it writes no file; should a library ever, it stays private
    model_dir, vocabulary = Path(argv[0]), tuple(argv[1:])
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    try:
        model = load_model(model_dir, EngineOptions(cpu_threads=ENGINE_THREADS))
    except FieldkitError as error:
        send(out, ("failed", error.one_line()))
        return 1
    send(out, ("ready", ""))
    while (job := receive(inp)) is not None:
        chunk_id, start_at, channels = job
        try:
            words = [
                [
                    (w.start, w.end, w.word, w.probability)
                    for w in transcribe_chunk(model, audio, vocabulary, offset_s=start_at)
                ]
                if audio is not None
                else []
                for audio in channels
            ]
        except FieldkitError as error:
            send(out, ("failed", error.one_line()))
            return 1
        send(out, ("words", (chunk_id, words)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
