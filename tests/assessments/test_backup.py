import io
import os
import shutil
import sqlite3
import stat
import subprocess

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from assessments.models import Assessment
from tests.assessments.test_views import record

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump sees committed rows only

TABLES = [Assessment._meta.db_table, Assessment.history.model._meta.db_table]


def count_rows_in_sqlite_copy(path):
    with sqlite3.connect(path) as copy:
        counts = {
            table: copy.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES
        }
    copy.close()
    return counts


def count_rows_in_postgres_restore(path):
    db = connection.settings_dict
    server = {
        "host": db["HOST"] or None,
        "port": db["PORT"] or None,
        "user": db["USER"] or None,
        "password": db["PASSWORD"] or None,
    }
    name = f"{db['NAME']}_restored"
    env = {**os.environ, "PGPASSWORD": db["PASSWORD"]} if db["PASSWORD"] else None
    args = [f"--{key}={value}" for key, value in server.items() if value and key != "password"]
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            subprocess.run(
                ["pg_restore", "--no-owner", *args, f"--dbname={name}", str(path)],
                env=env,
                check=True,
                timeout=120,
            )
            with psycopg.connect(dbname=name, **server) as restored:
                return {
                    table: restored.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                    for table in TABLES
                }
        finally:
            admin.execute(f'DROP DATABASE "{name}"')


def test_backup_holds_every_assessment_and_its_history(tmp_path, clinician):
    record(clinician, mrn="BK-1")
    record(clinician, mrn="BK-2", tumor_size_cm="6.0")
    path = tmp_path / "backup"

    out = io.StringIO()
    call_command("backup", str(path), stdout=out)
    assert f"to {path}" in out.getvalue()

    if connection.vendor == "sqlite":
        counts = count_rows_in_sqlite_copy(path)
    else:
        if not shutil.which("pg_restore"):
            pytest.skip("pg_restore is not installed: cannot restore the dump to check it")
        counts = count_rows_in_postgres_restore(path)
    assert counts == {TABLES[0]: 2, TABLES[1]: 2}


def test_backup_never_overwrites_a_file(tmp_path):
    existing = tmp_path / "db.sqlite3"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(existing))
    assert existing.read_text() == "keep me"


def test_a_backup_is_mode_600_whatever_the_umask(tmp_path, clinician):
    record(clinician, mrn="BK-2")
    path = tmp_path / "backup"
    previous = os.umask(0)
    try:
        call_command("backup", str(path), stdout=io.StringIO())
    finally:
        os.umask(previous)
    assert path.stat().st_size > 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
