"""A threaded server and a management command write to one SQLite file at once.

POSIX advisory locks belong to the process: closing any descriptor of the database
file drops every lock the process holds on it, those of its other connections too.
Nothing in a process with connections may open and close the file (SQLite's "How To
Corrupt An SQLite Database File", 2.2). When it did, a command's connection saw no
other connection's lock when it closed, took the file for its own, checkpointed and
deleted the -wal file under the server's feet: "disk I/O error", then "database disk
image is malformed", and writes the server had acknowledged were gone.
"""

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

SECONDS = 6
CLIENTS = 6

SETUP = """
from django.contrib.auth.models import Group, User
from django.core.management import call_command
call_command("migrate", verbosity=0)
from api.models import ApiToken
user = User.objects.create_user("stress", password="a-long-test-password")
user.groups.add(Group.objects.get(name="Clinicians"))
print(ApiToken.objects.create(user, expiry=None, name="stress")[1])
"""

# The command: a write, then the connection closed (as a command's last connection is),
# over and over; each name printed once it is committed.
COMMAND = """
import time
from django.contrib.auth.models import Group
from django.db import connection
deadline = time.monotonic() + {seconds}
i = 0
while time.monotonic() < deadline:
    Group.objects.create(name=f"command-{{i}}")
    connection.close()
    print(f"command-{{i}}", flush=True)
    i += 1
"""

ASSESSMENT = {
    "resection_date": "2026-03-02",
    "tumor_size_cm": "6.2",
    "tumor_count": 2,
    "vascular_invasion": "microvascular",
    "cirrhosis_grade": "mild",
    "notes": "",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_threaded_server_and_a_command_write_at_once_and_nothing_is_lost(tmp_path):
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_DEBUG": "0",
        "DJANGO_HTTPS": "0",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_API_RATE_TOKEN": "100000/min",
        "DJANGO_API_RATE_ADDRESS": "100000/min",
    }
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    run = {"env": env, "cwd": settings.BASE_DIR, "timeout": 60, "check": True}
    token = subprocess.run(
        [*manage, "shell", "-c", SETUP], **run, capture_output=True, text=True
    ).stdout.split()[-1]

    port = free_port()
    server = subprocess.Popen(
        [*manage, "runserver", "--noreload", f"127.0.0.1:{port}"],
        env=env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=5)
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "no server"
                time.sleep(0.1)

        command = subprocess.Popen(
            [*manage, "shell", "-c", COMMAND.format(seconds=SECONDS)],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

        def client(number: int) -> tuple[list[int], list[str]]:
            """Records assessments until the command ends: the ids acknowledged, the failures."""
            acknowledged, failures = [], []
            i = 0
            while command.poll() is None:
                body = json.dumps({**ASSESSMENT, "mrn": f"S-{number}-{i}"}).encode()
                request = urllib.request.Request(
                    f"{base}/api/v1/assessments",
                    data=body,
                    headers={
                        "Authorization": f"Bearer {token}",
                        "Content-Type": "application/json",
                    },
                )
                try:
                    with urllib.request.urlopen(request, timeout=30) as response:
                        acknowledged.append(json.load(response)["id"])
                except urllib.error.HTTPError as error:
                    failures.append(f"{error.code} {error.read()[:200]!r}")
                except OSError as error:  # no answer: a timeout, a dropped connection
                    failures.append(repr(error))
                i += 1
            return acknowledged, failures

        with ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(client, range(CLIENTS)))
        command_out, command_err = command.communicate(timeout=60)
    finally:
        server.terminate()
        server_err = server.communicate(timeout=30)[1]

    acknowledged = [pk for ids, _ in results for pk in ids]
    failures = [failure for _, errors in results for failure in errors]
    committed_groups = [line for line in command_out.split() if line.startswith("command-")]
    assert not failures, (failures[:5], server_err[-3000:])
    assert command.returncode == 0, command_err[-2000:]
    assert acknowledged and committed_groups, "both wrote"
    assert "Traceback" not in server_err, server_err[-2000:]

    with sqlite3.connect(database) as check:
        # The CHECK constraints' regular expressions, as Django's backend defines them.
        check.create_function("REGEXP", 2, lambda pattern, text: bool(re.search(pattern, text)))
        assert check.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        stored = {pk for (pk,) in check.execute("SELECT id FROM assessments_assessment")}
        groups = {name for (name,) in check.execute("SELECT name FROM auth_group")}
    check.close()
    assert set(acknowledged) <= stored, f"{len(set(acknowledged) - stored)} assessments lost"
    assert set(committed_groups) <= groups, f"{len(set(committed_groups) - groups)} groups lost"
