"""Several gunicorn workers write to one SQLite file: none may fail with "database is locked"."""

import os
import sqlite3
import subprocess
import sys
import time

from django.conf import settings

WORKERS = 4
TRANSACTIONS = 40

# Each transaction reads before it writes: in SQLite's default DEFERRED mode, two such
# transactions fail at once with "database is locked" whatever the busy timeout.
WRITER = """
import os, pathlib, time
import django
django.setup()
from django.contrib.auth.models import Group
from django.db import connection, transaction
worker, folder = os.environ["WORKER"], pathlib.Path(os.environ["FOLDER"])
connection.ensure_connection()  # connected before the start, so that all begin at once
(folder / f"ready-{worker}").touch()
deadline = time.monotonic() + 30
while not (folder / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.01)
for i in range(int(os.environ["TRANSACTIONS"])):
    with transaction.atomic():
        Group.objects.filter(name__startswith=f"{worker}-").count()
        Group.objects.create(name=f"{worker}-{i}")
"""


def test_several_processes_write_at_once_without_locking_errors(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "FOLDER": str(tmp_path),
        "TRANSACTIONS": str(TRANSACTIONS),
    }
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--no-input"], env=env, check=True, timeout=60)

    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER],
            env={**env, "WORKER": str(worker)},
            cwd=settings.BASE_DIR,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(WORKERS)
    ]
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("ready-*"))) < WORKERS and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()
    errors = [writer.communicate(timeout=60)[1] for writer in writers]

    assert not any("database is locked" in error for error in errors)
    assert [writer.returncode for writer in writers] == [0] * WORKERS, "\n".join(errors)
    with sqlite3.connect(database) as check:
        names = {
            name for (name,) in check.execute("SELECT name FROM auth_group WHERE name LIKE '%-%'")
        }
        (journal_mode,) = check.execute("PRAGMA journal_mode").fetchone()
    check.close()
    assert names == {f"{w}-{i}" for w in range(WORKERS) for i in range(TRANSACTIONS)}
    assert journal_mode == "wal"
    # Each group written is an audit event: the chain stayed whole under concurrency.
    verify = subprocess.run(
        [*manage, "verify_audit"], env=env, capture_output=True, text=True, timeout=60
    )
    assert verify.returncode == 0, verify.stdout
    with sqlite3.connect(database) as check:
        (changes,) = check.execute(
            "SELECT COUNT(*) FROM assessments_auditevent WHERE action = 'user_changed'"
        ).fetchone()
    check.close()
    assert changes == WORKERS * TRANSACTIONS  # each group's own seal besides
