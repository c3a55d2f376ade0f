#!/usr/bin/env python3
"""Transcribe the demo interview once with the bundled model and keep the result as JSON.

`fieldkit demo` loads demo-interview.transcript.json as the machine transcript (revision 0) of a few
demo participants, so the demo study has transcripts to review and approve without running the
model (which would make `fieldkit demo` take seconds instead of a blink).

It runs fieldkit's own pipeline (import → transcription job → stored transcript) in a throw-away
study and writes what `fieldkit transcript show --json` prints.

Usage:  python3 audio/make_demo_transcript.py [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FLAC = HERE / "demo-interview.flac"
OUT = HERE / "demo-interview.transcript.json"
PID = "INTSTA001-PEER"


def make_transcript(out: Path = OUT) -> dict[str, object]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    from fieldkit.services.demo import build_demo_study
    from fieldkit.services.recording import import_recording
    from fieldkit.services.transcription import enqueue, load_transcript, run_pending

    with tempfile.TemporaryDirectory() as tmp:
        study = build_demo_study(Path(tmp) / "study", actor="make_demo_transcript")
        interview = import_recording(study, PID, FLAC)
        enqueue(study, interview)
        run_pending(study)
        data = load_transcript(study, PID).to_json()
        study.close()
    data["participant"] = None  # filled in for each demo participant
    data.pop("revision", None)
    data.pop("kind", None)
    out.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    data = make_transcript(args.out)
    segments = data["segments"]
    assert isinstance(segments, list)
    words = sum(len(s["words"]) for s in segments)
    print(f"wrote {args.out}: {len(segments)} segments, {words} words")


if __name__ == "__main__":
    main()
