"""Opening a study in a process that already has a connection to its database must not drop that
connection's locks: closing any descriptor of a database file drops every POSIX lock the process
holds on it, and another process closing its own connection then deletes the write-ahead log's
index under ours (seen as reads that never see another process's writes, then "disk I/O error").
The header check (is the database encrypted?) used to open and close the file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fieldkit.services.study import Study, open_study


def test_opening_the_study_again_keeps_the_first_connection_working(study: Study) -> None:
    database = study.paths.database
    first = study.db  # this process's connection, open (WAL: it holds a shared lock)
    assert first.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    before = first.execute("select count(*) from audit_log").fetchone()[0]
    again = open_study(study.root)  # checks the header of the same database file
    assert again.db is not first
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
            "c.execute(\"insert into audit_log (at, actor, action) values ('now', 'x', 'y')\")"
            "; c.close()",
            str(database),
        ],
        check=True,
    )
    assert Path(f"{database}-shm").exists()  # the other process did not take us for gone
    assert first.execute("select count(*) from audit_log").fetchone()[0] == before + 1
