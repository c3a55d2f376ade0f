"""Report figures from facts whose answers are known: durations, counts, approval, terms, and the
methods paragraph."""

from __future__ import annotations

import pytest

from fieldkit.core.report import (
    InterviewFacts,
    ParticipantFacts,
    StudyReport,
    TermFacts,
    build_report,
    duration_stats,
)

PEOPLE = [
    ParticipantFacts("P1", "Site 1", "PEER", "consented"),
    ParticipantFacts("P2", "Site 1", "CLIN", "consented"),
    ParticipantFacts("P3", "Site 2", "PEER", "consented"),
    ParticipantFacts("P4", "Site 2", "CLIN", "pending"),
    ParticipantFacts("P5", "Site 2", "PEER", "withdrawn"),
]
LABELS = {"PEER": "Peer support worker", "CLIN": "Clinical staff"}


def interview(
    pid: str,
    minutes: float | None,
    role: str = "PEER",
    site: str = "Site 1",
    wave: str = "commencement",
    **values: object,
) -> InterviewFacts:
    defaults: dict[str, object] = {
        "done": True,
        "started_at": "2025-03-03T10:00:00+11:00",
        "transcribed": True,
        "state": "approved",
    }
    defaults.update(values)
    return InterviewFacts(
        participant_id=pid,
        site=site,
        role=role,
        wave=wave,
        duration_s=None if minutes is None else minutes * 60,
        **defaults,  # type: ignore[arg-type]
    )


def test_durations_30_35_40_minutes() -> None:
    stats = duration_stats([30.0, 35.0, 40.0])
    assert (stats.n, stats.mean, stats.median, stats.sd) == (3, 35.0, 35.0, 5.0)
    assert (stats.min, stats.max) == (30.0, 40.0)


def test_duration_stats_edge_cases() -> None:
    assert duration_stats([]).mean is None
    single = duration_stats([42.0])
    assert (single.n, single.mean, single.median, single.sd) == (1, 42.0, 42.0, None)
    even = duration_stats([20.0, 30.0, 50.0, 60.0])
    assert even.median == 40.0
    assert even.sd == pytest.approx(18.257, abs=0.001)


def sample_report() -> StudyReport:
    interviews = [
        interview("P1", 30, started_at="2025-03-03T10:00:00+11:00", notes=2),
        interview("P2", 35, role="CLIN", started_at="2025-03-10T09:00:00"),
        interview("P3", 40, site="Site 2", state="approved with changes", notes=1),
        interview(
            "P1",
            50,
            wave="follow-up",
            state="sent to participant",
            started_at="2025-06-01T10:00:00",
        ),
        interview(
            "P4", None, role="CLIN", site="Site 2", done=False, transcribed=False, state=None
        ),
    ]
    terms = [
        TermFacts("recovery", raised_by_participant=True, breaches=0, followed_up=True),
        TermFacts("recovery", raised_by_participant=True, breaches=2, followed_up=False),
        TermFacts("recovery", raised_by_participant=False, breaches=1, followed_up=False),
        TermFacts("recovery", raised_by_participant=False, breaches=0, followed_up=False),
    ]
    return build_report(
        "CCU study",
        PEOPLE,
        interviews,
        terms,
        sites=("Site 1", "Site 2"),
        roles=("PEER", "CLIN"),
        waves=("commencement", "follow-up"),
        role_labels=LABELS,
        interviewers=("Alex Ng", "Sam Lee"),
    )


def test_report_counts_participants_and_interviews() -> None:
    report = sample_report()
    assert report.participants_by_site_role == {
        "Site 1": {"PEER": 1, "CLIN": 1},
        "Site 2": {"PEER": 2, "CLIN": 1},
    }
    assert report.participant_status == {"consented": 3, "pending": 1, "withdrawn": 1}
    assert report.interviewed == 3
    assert report.interviews_per_wave == {"commencement": 3, "follow-up": 1}


def test_report_durations_overall_and_by_role() -> None:
    report = sample_report()
    overall = report.durations
    assert (overall.n, overall.mean, overall.median, overall.min, overall.max) == (
        4,
        38.75,
        37.5,
        30,
        50,
    )
    peer = report.durations_by_role["PEER"]
    assert (peer.n, peer.mean, peer.median, peer.sd) == (3, 40.0, 40.0, 10.0)
    clin = report.durations_by_role["CLIN"]
    assert (clin.n, clin.mean, clin.sd) == (1, 35.0, None)


def test_report_terms_and_approval() -> None:
    report = sample_report()
    [term] = report.terms
    assert (term.term, term.transcripts, term.raised_in, term.followed_up_in) == (
        "recovery",
        4,
        2,
        1,
    )
    assert (term.breaches, term.transcripts_with_breaches) == (3, 2)
    a = report.approval
    assert a.states == {"approved": 2, "approved with changes": 1, "sent to participant": 1}
    assert (a.sent, a.approved, a.approved_with_changes, a.withdrawn) == (4, 3, 1, 0)


def test_methods_paragraph_is_written_from_the_data() -> None:
    text = sample_report().methods
    assert "by 2 interviewers (Alex Ng and Sam Lee)" in text
    assert "between 2025-03-03 and 2025-06-01" in text
    assert "at 2 sites (Site 1 and Site 2)" in text
    assert "4 interviews were audio-recorded with 3 participants" in text
    assert "2 peer support workers and 1 clinical staff" in text
    assert "mean of 38.8 minutes (SD 8.5, median 37.5, range 30.0–50.0)" in text
    assert "1 participant was interviewed more than once (commencement and follow-up)" in text
    assert "Field notes were taken during 2 of 4 interviews" in text
    assert "returned to participants for comment and correction (4 of 4)" in text
    assert "1 of them with changes" in text


def test_methods_paragraph_without_interviews() -> None:
    report = build_report("Empty", PEOPLE, [], [])
    assert report.methods == "No interviews have been conducted yet."
    assert report.durations.n == 0


def test_report_json_has_every_section() -> None:
    data = sample_report().to_json()
    assert data["durations_minutes"]["overall"]["mean"] == 38.75
    assert data["guarded_terms"][0]["raised_by_participant_in"] == 2
    assert data["approval"]["sent_to_participants"] == 4
    assert [i["minutes"] for i in data["interviews"]] == [30, 35, 40, 50]
