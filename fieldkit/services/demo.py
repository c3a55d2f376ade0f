"""The throw-away demo study `fieldkit demo` opens.

A few consented participants and the shipped schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fieldkit.paths import demo_root, shipped_demo_audio
from fieldkit.services.participants import add_participant, give_consent
from fieldkit.services.study import Study, init_study

# (site, role, days before today that consent was given, or None for not yet)
DEMO_PARTICIPANTS: list[tuple[str, str, int | None]] = [
    ("Site 1", "PEER", 9),
    ("Site 1", "CLIN", 12),
    ("Site 2", "PEER", 5),
    ("Site 2", "CLIN", None),
    ("Site 1", "CLIN", 2),
]


def new_demo_dir() -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    root = demo_root() / f"study-{stamp}"
    suffix = 1
    while root.exists():
        suffix += 1
        root = demo_root() / f"study-{stamp}-{suffix}"
    return root


def build_demo_study(root: Path | None = None, actor: str = "demo") -> Study:
    study = init_study(root or new_demo_dir(), title="CCU staff study (demo)", actor=actor)
    today = dt.date.today()
    for site, role, consent_days_ago in DEMO_PARTICIPANTS:
        participant = add_participant(study, site, role)
        if consent_days_ago is not None:
            date = today - dt.timedelta(days=consent_days_ago)
            give_consent(study, participant.id, date.isoformat(), form_version="v2.1")
    return study


def demo_interview_audio() -> Path:
    """The synthesized two-channel demo interview (audio/demo-interview.flac in the repository)."""
    return shipped_demo_audio("demo-interview.flac")
