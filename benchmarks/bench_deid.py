"""Precision and recall of de-identification, per class, on the labelled sentences.

Scores fieldkit.core.deid.detect on tests/data/deid_labelled.yaml (the same set and the same
counting as tests/core/test_deid_labelled.py): a detection is right only with the labelled span
and class. Prints a table per part of the set ("dev": written while the patterns were tuned;
"held-out": written afterwards) and for both, then the time per sentence. Figures only: nothing
passes or fails.

    python benchmarks/bench_deid.py [--misses] [--markdown]
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from fieldkit.core.deid import Category, Identifier, detect  # noqa: E402
from tests.core.deid_labelled import (  # noqa: E402
    LIST_CATEGORIES,
    PARTS,
    PATTERN_CATEGORIES,
    Score,
    Sentence,
    Tally,
    load,
    score,
)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--misses", action="store_true", help="list every miss and false alarm")
    parser.add_argument("--markdown", action="store_true", help="print tables for the README")
    parser.add_argument("--repeat", type=int, default=20, help="passes for the timing")
    return parser.parse_args()


def rows(result: Score) -> list[tuple[str, Tally]]:
    by_class = [(c.value, result.by_class[c]) for c in Category]
    return [
        *by_class,
        ("listed identifiers", result.total(LIST_CATEGORIES)),
        ("pattern classes", result.total(PATTERN_CATEGORIES)),
        *((f"form: {form}", tally) for form, tally in result.by_form.items()),
    ]


def print_table(title: str, result: Score, markdown: bool) -> None:
    changed = f"{len(result.changed_ordinary)} of {result.ordinary}"
    print(f"\n{title}: {result.sentences} sentences, ordinary ones changed: {changed}")
    if markdown:
        print("\n| Class | Labelled | Found right | False alarms | Precision | Recall |")
        print("|---|---|---|---|---|---|")
    for name, t in rows(result):
        cells = (name, t.labelled, t.right, t.false_alarms, f"{t.precision:.3f}", f"{t.recall:.3f}")
        if markdown:
            print("| " + " | ".join(str(c) for c in cells) + " |")
        else:
            print(
                "  {:<20} labelled {:>3}  right {:>3}  false alarms {:>2}  P {}  R {}".format(
                    *cells
                )
            )


def time_per_sentence(
    identifiers: Sequence[Identifier], sentences: Sequence[Sentence], repeat: int
) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        for sentence in sentences:
            detect(sentence.text, identifiers)
    return (time.perf_counter() - start) / (repeat * len(sentences))


def main() -> None:
    args = parse_args()
    identifiers, sentences = load()
    print(f"fieldkit de-identification, {platform.python_version()} on {platform.machine()}")
    print(f"{len(identifiers)} listed identifiers, {len(sentences)} labelled sentences")
    for part in PARTS:
        chosen = [s for s in sentences if s.part == part]
        print_table(f"part {part}", score(identifiers, chosen), args.markdown)
    overall = score(identifiers, sentences)
    print_table("both parts", overall, args.markdown)
    if args.misses:
        for heading, lines in [
            ("misses", overall.misses),
            ("false alarms", overall.false_alarms),
            ("ordinary sentences changed", overall.changed_ordinary),
        ]:
            print(f"\n{heading}:")
            print("\n".join(f"  {line}" for line in lines) or "  none")
    seconds = time_per_sentence(identifiers, sentences, args.repeat)
    print(
        f"\ndetect(): {seconds * 1e6:.0f} µs per sentence ({len(identifiers)} identifiers listed)"
    )


if __name__ == "__main__":
    main()
