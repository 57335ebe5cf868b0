"""Many writers append audit events at once: every event is written, the chain stays whole.

Threads on SQLite (each with its own connection to the test database file),
processes on PostgreSQL (as gunicorn workers and app servers are).
"""

import os
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from django.urls import reverse

from assessments.audit import first_broken_link, log_event
from assessments.models import AuditEvent

WRITERS = 8
EVENTS = 25

pytestmark = pytest.mark.django_db(transaction=True)

WRITER = """
import os, sys
import django
django.setup()
from assessments.audit import log_event
worker = os.environ["WORKER"]
sys.stdin.readline()  # all start together
for number in range(int(os.environ["EVENTS"])):
    log_event(action="login_failed", username=f"writer-{worker}-{number}")
"""


def write_in_threads():
    barrier = threading.Barrier(WRITERS)
    errors = []

    def writer(worker):
        try:
            barrier.wait()
            for number in range(EVENTS):
                log_event(action="login_failed", username=f"writer-{worker}-{number}")
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def write_in_processes():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {**os.environ, "DATABASE_URL": url, "EVENTS": str(EVENTS)}
    if db["PASSWORD"]:
        env["PGPASSWORD"] = db["PASSWORD"]
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER],
            env={**env, "WORKER": str(worker)},
            cwd=settings.BASE_DIR,
            stdin=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for worker in range(WRITERS)
    ]
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    errors = []
    for writer in writers:
        _, stderr = writer.communicate(timeout=100)
        if writer.returncode != 0:
            errors.append(stderr)
    return errors


def test_concurrent_writers_all_succeed_and_the_chain_holds():
    before = AuditEvent.objects.count()  # the roles' set-up may have written some
    errors = write_in_threads() if connection.vendor == "sqlite" else write_in_processes()
    assert errors == []
    names = set(AuditEvent.objects.filter(action="login_failed").values_list("username", flat=True))
    assert names == {f"writer-{w}-{n}" for w in range(WRITERS) for n in range(EVENTS)}
    assert AuditEvent.objects.count() == before + WRITERS * EVENTS
    assert first_broken_link() is None


def test_a_burst_of_failed_logins_loses_no_event(django_user_model):
    """Each client sees 200 four times, then 429; the log has every attempt and lockout."""
    clients = 6
    for number in range(clients):
        django_user_model.objects.create_user(f"burst-{number}", password="a-long-test-password")
    barrier = threading.Barrier(clients)
    statuses, errors = {}, []

    def client_(number):
        try:
            client = Client(REMOTE_ADDR=f"10.0.0.{number + 1}")
            barrier.wait()
            statuses[number] = [
                client.post(
                    reverse("login"), {"username": f"burst-{number}", "password": "wrong"}
                ).status_code
                for _ in range(6)
            ]
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=client_, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert statuses == {n: [200, 200, 200, 200, 429, 429] for n in range(clients)}
    for number in range(clients):
        mine = AuditEvent.objects.filter(username=f"burst-{number}")
        assert mine.filter(action="login_failed").count() == 6  # one per attempt
        assert mine.filter(action="locked_out").count() == 2
    assert first_broken_link() is None
