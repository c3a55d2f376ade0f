"""init, participants, consent and interviews on the command line, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest

from fieldkit.services.study import open_study
from fieldkit.store.db import schema_version
from fieldkit.store.migrations import MIGRATIONS
from tests.conftest import CliRun


@pytest.fixture
def study_dir(tmp_path: Path, cli: CliRun) -> Path:
    root = tmp_path / "s"
    result = cli("init", root, "--title", "CCU staff study")
    assert result.exit_code == 0, result.output
    return root


def test_init_makes_the_study_folder(study_dir: Path) -> None:
    assert (study_dir / "study.toml").is_file()
    assert (study_dir / "audio").is_dir()
    assert (study_dir / "schedules" / "ccu-staff-commencement.yaml").is_file()
    study = open_study(study_dir)
    assert study.config.title == "CCU staff study"
    assert study.config.sites == ("Site 1", "Site 2")
    assert study.config.roles == ("PEER", "CLIN")
    assert study.config.waves == ("commencement", "follow-up")
    assert schema_version(study.db) == len(MIGRATIONS)
    mode = study.db.execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    assert study.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_init_refuses_an_existing_study(study_dir: Path, cli: CliRun) -> None:
    result = cli("init", study_dir)
    assert result.exit_code == 1
    assert "already holds a study" in result.stderr


def test_ids_run_on_across_roles_and_print_last(study_dir: Path, cli: CliRun) -> None:
    ids = []
    for role in ("PEER", "CLIN", "peer"):
        result = cli("--study", study_dir, "participant", "add", "--site", "Site 1", "--role", role)
        assert result.exit_code == 0, result.output
        ids.append(result.stdout.strip().splitlines()[-1])
    assert ids == ["INTSTA001-PEER", "INTSTA002-CLIN", "INTSTA003-PEER"]


def add(cli: CliRun, study_dir: Path, site: str = "Site 1", role: str = "PEER") -> str:
    result = cli("participant", "add", "--site", site, "--role", role, "--study", study_dir)
    return str(result.stdout.strip().splitlines()[-1])


def test_queue_json_is_in_consent_order(study_dir: Path, cli: CliRun) -> None:
    first, second, third, fourth = (add(cli, study_dir) for _ in range(4))
    assert cli("consent", second, "--date", "2026-02-01", "--study", study_dir).exit_code == 0
    assert cli("consent", fourth, "--date", "2026-01-15", "--study", study_dir).exit_code == 0
    assert cli("consent", first, "--date", "2026-01-20", "--study", study_dir).exit_code == 0
    assert cli("consent", first, "--withdraw", "--study", study_dir).exit_code == 0

    result = cli("participant", "list", "--json", "--study", study_dir)
    rows = json.loads(result.stdout)
    assert [r["id"] for r in rows] == [fourth, second, third, first]
    assert [r["status"] for r in rows] == ["consented", "consented", "pending", "withdrawn"]
    assert rows[0]["consent_date"] == "2026-01-15"
    assert rows[2]["consent_date"] is None
    assert {"id", "site", "role", "consent_date", "status"} <= set(rows[0])


def test_study_from_environment(
    study_dir: Path, cli: CliRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FIELDKIT_STUDY", str(study_dir))
    assert cli("participant", "add", "--site", "Site 2", "--role", "CLIN").exit_code == 0
    assert json.loads(cli("participant", "list", "--json").stdout)[0]["site"] == "Site 2"


def table_snapshot(study_dir: Path) -> list[tuple[str, int]]:
    conn = sqlite3.connect(study_dir / "fieldkit.db")
    tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    counts = [(t, conn.execute(f"select count(*) from [{t}]").fetchone()[0]) for t in tables]
    conn.close()
    return counts


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["participant", "add", "--site", "Site 9", "--role", "PEER"], "unknown site 'Site 9'"),
        (["participant", "add", "--site", "Site 1", "--role", "NURSE"], "unknown role 'NURSE'"),
        (["consent", "NOBODY", "--date", "2026-01-01"], "no participant 'NOBODY'"),
        (["consent", "INTSTA001-PEER", "--date", "2026-13-01"], "is not a date"),
        (["consent", "INTSTA001-PEER", "--date", "2999-01-01"], "in the future"),
        (["consent", "INTSTA001-PEER"], "either --date"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(
    study_dir: Path, cli: CliRun, args: list[str], message: str
) -> None:
    add(cli, study_dir)
    before = table_snapshot(study_dir)
    result = cli(*args, "--study", study_dir)
    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.output
    assert table_snapshot(study_dir) == before


def test_not_a_study_says_so(tmp_path: Path, cli: CliRun) -> None:
    result = cli("--study", tmp_path, "participant", "list")
    assert result.exit_code == 1
    assert "is not a fieldkit study" in result.stderr
    assert "fieldkit init" in result.stderr


def test_malformed_study_toml_is_one_line(study_dir: Path, cli: CliRun) -> None:
    config = study_dir / "study.toml"
    config.write_text(config.read_text().replace("sites = [", "sites = 3 #["), encoding="utf-8")
    result = cli("participant", "list", "--study", study_dir)
    assert result.exit_code == 1
    assert len(result.stderr.strip().splitlines()) == 1
    config.write_text("title = [unclosed", encoding="utf-8")
    result = cli("participant", "list", "--study", study_dir)
    assert result.exit_code == 1
    assert "not valid TOML" in result.stderr


def test_audit_log_records_changes_with_actor(study_dir: Path, cli: CliRun) -> None:
    pid = add(cli, study_dir)
    cli(
        "consent",
        pid,
        "--date",
        dt.date.today().isoformat(),
        "--as",
        "rivera",
        "--study",
        study_dir,
    )
    entries = open_study(study_dir).db["audit_log"].rows_where(order_by="id")
    actions = [(e["action"], e["actor"], e["participant_id"]) for e in entries]
    assert ("consent given", "rivera", pid) in actions
    assert actions[0][0] == "study created"
    assert any(a == "participant added" and p == pid for a, _, p in actions)


def test_interviews_json_lists_started_interviews(demo_dir: Path, cli: CliRun) -> None:
    from fieldkit.services.interviews import InterviewSession

    study = open_study(demo_dir)
    pid = json.loads(cli("participant", "list", "--json", "--study", demo_dir).stdout)[0]["id"]
    session = InterviewSession.start(study, pid)
    session.next_question()
    session.end()  # nothing was recorded: its duration is no audio at all
    rows = json.loads(cli("interviews", "--json", "--study", demo_dir).stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["participant"] == pid
    assert row["wave"] == "commencement"
    assert row["status"] == "ended"
    assert row["duration_s"] == 0.0
    assert row["recordings"] == []
    assert {"started", "transcript_state"} <= set(row)


@pytest.fixture
def demo_dir(tmp_path: Path, cli: CliRun) -> Path:
    root = tmp_path / "demo"
    result = cli("demo", "--no-app", "--empty", "--dir", root)
    assert result.exit_code == 0, result.output
    return root


def test_demo_study_has_consented_participants(demo_dir: Path, cli: CliRun) -> None:
    rows = json.loads(cli("participant", "list", "--json", "--study", demo_dir).stdout)
    assert len(rows) >= 4
    assert sum(r["status"] == "consented" for r in rows) >= 3


def test_an_os_error_is_one_line_not_a_traceback(tmp_path: Path, cli: CliRun) -> None:
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    result = cli("init", a_file / "study")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
    assert "Traceback" not in result.output


def test_a_database_that_cannot_be_written_is_one_line(study_dir: Path, cli: CliRun) -> None:
    # A trigger that fails every insert the way SQLite does when the disk is full.
    conn = sqlite3.connect(study_dir / "fieldkit.db")
    conn.execute(
        "CREATE TRIGGER disk_full BEFORE INSERT ON participants "
        "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
    )
    conn.commit()
    conn.close()
    result = cli("participant", "add", "--site", "Site 1", "--role", "PEER", "--study", study_dir)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the study database could not be written")
    assert "disk is full" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert json.loads(cli("participant", "list", "--json", "--study", study_dir).stdout) == []
    actions = [e["action"] for e in open_study(study_dir).db["audit_log"].rows]
    assert "participant added" not in actions  # the audit entry rolled back with the change
