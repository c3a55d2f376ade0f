"""The app through Textual's Pilot: the queue, walking the schedule, the guard rule, notes."""

from __future__ import annotations

import dataclasses

from textual.widgets import DataTable

from fieldkit.core.guard import GuardEvent, GuardEventKind
from fieldkit.core.models import ConsentStatus, Speaker
from fieldkit.services.interviews import interview_events, list_interviews
from fieldkit.services.participants import interview_queue
from fieldkit.services.study import Study
from fieldkit.store.repo import Participants
from fieldkit.tui.app import FieldkitApp
from fieldkit.tui.messages import GuardEventDetected
from fieldkit.tui.screens.help import HelpScreen
from fieldkit.tui.screens.interview import InterviewScreen
from fieldkit.tui.screens.modals import ChooseTerm, TextPrompt
from fieldkit.tui.screens.queue import QueueScreen
from fieldkit.tui.widgets.clock import InterviewClock
from fieldkit.tui.widgets.field_notes import FieldNotes
from fieldkit.tui.widgets.guard_banner import GuardBanner, banner_id
from fieldkit.tui.widgets.schedule_panel import ProbeLine, probe_id
from fieldkit.tui.widgets.topic_list import TopicList

from .conftest import (
    SIZE,
    notifications,
    shown,
    wait_for_notification,
    wait_for_screen,
    wait_until,
)


def table_ids(app: FieldkitApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


async def open_first_interview(app: FieldkitApp, pilot: object) -> InterviewScreen:
    await pilot.press("enter")  # type: ignore[attr-defined]
    return await wait_for_screen(pilot, InterviewScreen)  # type: ignore[arg-type]


def question_ids(study: Study, interview_id: int) -> list[str | None]:
    return [e.question_id for e in interview_events(study, interview_id, "question")]


async def test_title_is_the_study_title(app: FieldkitApp) -> None:
    async with app.run_test(size=SIZE):
        assert app.title == "CCU staff study (demo)"


async def test_queue_lists_participants_in_consent_order(
    app: FieldkitApp, tui_study: Study
) -> None:
    participants = Participants(tui_study.db).all()
    consented = sorted(
        (p for p in participants if p.status is ConsentStatus.CONSENTED),
        key=lambda p: p.consent_date or "",
    )
    pending = [p for p in participants if p.status is ConsentStatus.PENDING]
    # The demo adds participants in an order that differs from their consent order.
    assert [p.id for p in consented] != sorted(p.id for p in consented)
    async with app.run_test(size=SIZE):
        assert isinstance(app.screen, QueueScreen)
        assert table_ids(app) == [p.id for p in consented + pending]
        table = app.screen.query_one(DataTable)
        dates = [str(table.get_cell(p.id, "consent_date")) for p in consented]
        assert dates == [p.consent_date for p in consented]
        assert str(table.get_cell(pending[-1].id, "consent")) == "no consent yet"


async def test_enter_opens_the_interview_on_the_first_question(
    app: FieldkitApp, tui_study: Study
) -> None:
    first = interview_queue(tui_study)[0]
    steps = tui_study.schedule().steps()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        assert screen.session.participant.id == first.id
        assert shown(app, "#question") == steps[0][1].text
        assert first.id in shown(app, "#participant-info")
        assert steps[0][0].title in shown(app, "#topic-title")
        assert shown(app, "#clock").startswith("⏱ 00:0")
        assert "/ 35:00" in shown(app, "#clock")
        assert app.screen.query_one("#recording-bar") is not None


async def test_n_and_p_walk_the_schedule_and_store_question_events(
    app: FieldkitApp, tui_study: Study
) -> None:
    steps = tui_study.schedule().steps()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        interview_id = screen.session.interview.id
        await pilot.press("n")
        await pilot.pause()
        assert shown(app, "#question") == steps[1][1].text
        await pilot.press("n")
        await pilot.pause()
        assert shown(app, "#question") == steps[2][1].text
        await pilot.press("p")
        await pilot.pause()
        assert shown(app, "#question") == steps[1][1].text
        expected = [steps[i][1].id for i in (0, 1, 2, 1)]
        assert question_ids(tui_study, interview_id) == expected
        # Walking into the second topic ticks the first in the topic list.
        first_topic_questions = len(steps[0][0].questions)
        for _ in range(first_topic_questions):
            await pilot.press("n")
        await pilot.pause()
        assert screen.session.current[0].id == steps[first_topic_questions][0].id
        marks = app.screen.query_one(TopicList).marks
        assert marks[steps[0][0].id] == "✓"
        assert marks[steps[first_topic_questions][0].id] == "▸"
        assert list(marks.values())[-1] == " "


async def test_r_changes_the_banner_unlocks_the_gated_probe_and_stores_a_guard_event(
    app: FieldkitApp, tui_study: Study
) -> None:
    schedule = tui_study.schedule()
    term = schedule.guarded_terms[0]
    # The first question with a probe gated on the term.
    index, gated = next(
        (i, probe)
        for i, (_, question) in enumerate(schedule.steps())
        for probe in question.probes
        if term.term in probe.requires
    )
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        for _ in range(index):
            await pilot.press("n")
        await pilot.pause()
        banner = app.screen.query_one(f"#{banner_id(term.term)}", GuardBanner)
        probe = app.screen.query_one(f"#{probe_id(gated)}", ProbeLine)
        assert "do not say it" in shown(app, f"#{banner_id(term.term)}")
        assert banner.has_class("-locked")
        assert probe.has_class("-locked")
        assert gated.text not in shown(app, f"#{probe_id(gated)}")
        assert f"locked until the participant raises {term.term}" in shown(
            app, f"#{probe_id(gated)}"
        )

        await pilot.press("r")
        await pilot.pause()
        banner_text = shown(app, f"#{banner_id(term.term)}")
        assert "do not say it" not in banner_text
        assert term.follow_up in banner_text
        assert banner.has_class("-raised") and not banner.has_class("-locked")
        probe = app.screen.query_one(f"#{probe_id(gated)}", ProbeLine)
        assert not probe.has_class("-locked")
        assert gated.text in shown(app, f"#{probe_id(gated)}")
        guard_rows = interview_events(tui_study, screen.session.interview.id, "guard")
        assert [(g.term, g.guard_kind, g.speaker) for g in guard_rows] == [
            (term.term, "raised", "participant")
        ]

        await pilot.press("u")
        await pilot.pause()
        assert "followed up" in shown(app, f"#{banner_id(term.term)}")
        assert banner.has_class("-followed-up")
        guard_rows = interview_events(tui_study, screen.session.interview.id, "guard")
        assert [g.guard_kind for g in guard_rows] == ["raised", "followed up"]

        await pilot.press("r")  # nothing left to raise: a notice, no new event
        await pilot.pause()
        assert len(interview_events(tui_study, screen.session.interview.id, "guard")) == 2
        assert any("already been raised" in m for _, m in notifications(app))


async def test_r_asks_which_term_when_several_are_locked(
    app: FieldkitApp, tui_study: Study
) -> None:
    shipped = tui_study.schedule_path().read_text(encoding="utf-8")
    extra = (
        "guarded_terms:\n"
        "  - term: burnout\n"
        "    forms: [burnt out, burned out]\n"
        "    follow_up:\n"
        "      id: burnout-meaning\n"
        "      text: You mentioned burnout — what does that look like for you?\n"
    )
    two_terms = shipped.replace("guarded_terms:\n", extra, 1)
    path = tui_study.paths.schedules / "two-terms.yaml"
    path.write_text(two_terms, encoding="utf-8")
    tui_study.config = dataclasses.replace(tui_study.config, schedule="schedules/two-terms.yaml")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        assert sorted(screen.session.locked_terms()) == ["burnout", "recovery"]
        await pilot.press("r")
        await wait_for_screen(pilot, ChooseTerm)
        await pilot.press("down", "enter")  # the second term listed
        await wait_for_screen(pilot, InterviewScreen)
        guard_rows = interview_events(tui_study, screen.session.interview.id, "guard")
        assert [g.term for g in guard_rows] == [screen.session.schedule.guarded_terms[1].term]
        assert len(screen.session.locked_terms()) == 1


async def test_f_stores_a_field_note_and_escape_cancels_one(
    app: FieldkitApp, tui_study: Study
) -> None:
    text = "Long pause [before] answering; q and ? typed inside the note"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        interview_id = screen.session.interview.id
        await pilot.press("f")
        await wait_for_screen(pilot, TextPrompt)
        await pilot.press(*text)
        await pilot.press("enter")
        await wait_for_screen(pilot, InterviewScreen)
        notes = interview_events(tui_study, interview_id, "note")
        assert [n.text for n in notes] == [text]
        assert notes[0].at >= 0.0
        assert app.screen.query_one(FieldNotes).entries[-1][1:] == ("note", text)

        await pilot.press("f", *"not this one", "escape")
        await wait_for_screen(pilot, InterviewScreen)
        assert len(interview_events(tui_study, interview_id, "note")) == 1

        await pilot.press("f", "enter")  # an empty note: one error line, no crash
        await wait_for_notification(pilot, "note is empty", "error")
        assert isinstance(app.screen, InterviewScreen)
        assert len(interview_events(tui_study, interview_id, "note")) == 1


async def test_m_stores_a_timestamped_marker(app: FieldkitApp, tui_study: Study) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        markers = interview_events(tui_study, screen.session.interview.id, "marker")
        assert len(markers) == 1
        assert markers[0].at >= 0.0
        await pilot.press("M", *"good quote", "enter")
        await pilot.pause()
        markers = interview_events(tui_study, screen.session.interview.id, "marker")
        assert [m.text for m in markers] == [None, "good quote"]


async def test_enter_without_consent_notifies_and_stays_on_the_queue(
    app: FieldkitApp, tui_study: Study
) -> None:
    consent = {p.id: p.status for p in Participants(tui_study.db).all()}
    before = list_interviews(tui_study)
    async with app.run_test(size=SIZE) as pilot:
        ids = table_ids(app)
        pending = next(pid for pid in ids if consent[pid] is ConsentStatus.PENDING)
        await pilot.press(*["down"] * ids.index(pending))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QueueScreen)
        errors = [m for severity, m in notifications(app) if severity == "error"]
        assert len(errors) == 1 and pending in errors[0] and "consent" in errors[0]
        assert list_interviews(tui_study) == before


async def test_escape_goes_back_to_the_queue_with_the_interview_in_progress(
    app: FieldkitApp, tui_study: Study
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        participant = screen.session.participant.id
        await pilot.press("n", "escape")
        queue = await wait_for_screen(pilot, QueueScreen)
        table = queue.query_one(DataTable)
        await wait_until(
            pilot, lambda: str(table.get_cell(participant, "interview")).startswith("in prog")
        )
        # Re-opening resumes where the interviewer left off.
        await pilot.press("enter")
        reopened = await wait_for_screen(pilot, InterviewScreen)
        assert reopened.session.index == 1


async def test_e_ends_the_interview_after_confirmation(app: FieldkitApp, tui_study: Study) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        participant = screen.session.participant.id
        await pilot.press("e", "n")  # declined: still interviewing
        await pilot.pause()
        assert isinstance(app.screen, InterviewScreen)
        await pilot.press("e", "y")
        await wait_for_screen(pilot, QueueScreen)  # ending runs in a thread worker
        [summary] = [s for s in list_interviews(tui_study) if s.participant == participant]
        assert summary.status == "ended" and summary.duration_s is not None
        assert summary.transcript_state == "none"  # nothing recorded: nothing queued
        assert app.transcriber is None


async def test_question_mark_shows_the_keys(app: FieldkitApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_first_interview(app, pilot)
        await pilot.press("question_mark")
        help_screen = await wait_for_screen(pilot, HelpScreen)
        keys = dict(help_screen.rows)
        assert {"space", "n", "p", "r", "m", "f", "escape", "q", "?"} <= set(keys)
        assert "recording" in keys["space"]
        await pilot.press("escape")
        await wait_for_screen(pilot, InterviewScreen)


async def test_command_palette_lists_and_runs_the_actions(
    app: FieldkitApp, tui_study: Study
) -> None:
    steps = tui_study.schedule().steps()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        commands = {c.title: c for c in app.get_system_commands(screen)}
        wanted = {
            "Next question",
            "Previous question",
            "Participant raised a term",
            "Marker",
            "Field note",
            "Back",
            "Help",
            "Quit",
        }
        assert wanted <= set(commands)
        assert [c.title for c in app.get_system_commands(screen)].count("Quit") == 1
        await commands["Next question"].callback()
        await pilot.pause()
        assert shown(app, "#question") == steps[1][1].text


async def test_clock_turns_to_a_warning_past_the_target(app: FieldkitApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await open_first_interview(app, pilot)
        clock = app.screen.query_one(InterviewClock)
        clock.show(12 * 60 + 4)
        assert str(clock.content).startswith("⏱ 12:04 / 35:00")
        assert not clock.has_class("-over")
        clock.show(36 * 60)
        assert clock.has_class("-over")


async def test_interview_screen_fits_80_by_24(app: FieldkitApp) -> None:
    async with app.run_test(size=(80, 24)) as pilot:
        await open_first_interview(app, pilot)
        for selector in ("#question", "#clock", ".guard-banner", "#topics", "#recording-bar"):
            region = app.screen.query_one(selector).region
            assert region.width > 0 and region.height > 0, selector
            assert region.bottom <= 23 and region.right <= 80, selector


async def test_a_guard_event_from_a_worker_updates_the_banner_and_is_stored(
    app: FieldkitApp, tui_study: Study
) -> None:
    term = tui_study.schedule().guarded_terms[0].term
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        event = GuardEvent(term, GuardEventKind.RAISED, Speaker.PARTICIPANT, at=42.0)
        screen.post_message(GuardEventDetected(event))
        await pilot.pause()
        assert "raised by the participant at 00:42" in shown(app, f"#{banner_id(term)}")
        [row] = interview_events(tui_study, screen.session.interview.id, "guard")
        assert (row.term, row.guard_kind, row.source, row.at) == (term, "raised", "live", 42.0)


async def test_a_full_disk_while_taking_a_note_is_a_notification_not_a_crash(
    app: FieldkitApp, tui_study: Study
) -> None:
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_first_interview(app, pilot)
        # From here SQLite refuses new notes the way it does when the disk is full.
        tui_study.db.execute(
            "CREATE TRIGGER disk_full BEFORE INSERT ON interview_events WHEN new.kind = 'note' "
            "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
        )
        await pilot.press("f", *"a note", "enter")
        await wait_for_notification(pilot, "could not be written", "error")
        assert app.is_running and isinstance(app.screen, InterviewScreen)
        assert interview_events(tui_study, screen.session.interview.id, "note") == []
