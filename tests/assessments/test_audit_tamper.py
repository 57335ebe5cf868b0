"""Someone with database access alone tampers with the record: verify_audit finds it.

Each attack names the first bad link and makes verify_audit (with the checkpoints)
exit 1. The same tests run on SQLite and on PostgreSQL.
"""

import io
import os
import stat

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from assessments.audit import (
    drop_append_only_triggers,
    install_append_only_triggers,
    log_event,
)
from assessments.models import Assessment, AuditEvent
from common import proxy
from followup import services as followup_services
from followup.forms import EVENT_FORMS
from tests.factories import record

pytestmark = pytest.mark.django_db

HISTORY = Assessment.history.model._meta.db_table


def verify(checkpoints=None):
    out = io.StringIO()
    args = ["--checkpoints", str(checkpoints)] if checkpoints else []
    try:
        call_command("verify_audit", *args, stdout=out)
        return 0, out.getvalue()
    except SystemExit as exit:
        return exit.code, out.getvalue()


def behind_the_app(sql, params=()):
    """A statement run straight on the database, its triggers dropped for it."""
    drop_append_only_triggers(connection)
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    finally:
        install_append_only_triggers(connection)


@pytest.fixture
def chain(clinician_client, clinician, tmp_path):
    """An assessment, viewed three times, and a checkpoint at the chain's head."""
    assessment = record(clinician)
    for _ in range(3):
        clinician_client.get(assessment.get_absolute_url())
    checkpoints = tmp_path / "checkpoints"
    call_command("audit_checkpoint", "--to", str(checkpoints), stdout=io.StringIO())
    code, out = verify(checkpoints)
    assert code == 0 and "intact" in out
    return assessment, checkpoints


def seal_of(row):
    return AuditEvent.objects.get(
        action="record_changed", object_type=row._meta.model_name, object_id=str(row.pk)
    )


def ids():
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


def test_the_record_is_sealed_into_the_chain(chain):
    assessment, _ = chain
    seals = AuditEvent.objects.filter(action="record_changed")
    assert {(e.object_type, e.object_id) for e in seals} == {
        ("historicalpatient", str(assessment.patient.history.get().history_id)),
        ("historicalassessment", str(assessment.history.get().history_id)),
    }


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(chain):
    _, checkpoints = chain
    head, before = ids()[-1], ids()[-2]
    behind_the_app("DELETE FROM assessments_auditevent WHERE id >= %s", [before])
    # The rest of the chain is whole: only the checkpoint shows it was cut short.
    assert verify()[0] == 0
    code, out = verify(checkpoints)
    assert code == 1
    assert f"broken at event {head}: it is in a checkpoint but no longer in the chain" in out


def test_editing_an_event_and_recomputing_the_chain_after_it(chain):
    _, checkpoints = chain
    victim = ids()[2]
    events = list(AuditEvent.objects.filter(id__gte=victim).order_by("id"))
    events[0].username = "someone-else"
    # The attacker has the database, not DJANGO_AUDIT_KEY: a key of their own.
    with override_settings(AUDIT_KEY="a-key-the-attacker-made-up-for-this"):
        prev = AuditEvent.objects.get(id=ids()[1]).hash
        for event in events:
            event.prev_hash = prev
            event.hash = prev = event.compute_hash()
    for event in events:
        behind_the_app(
            "UPDATE assessments_auditevent SET username = %s, prev_hash = %s, hash = %s "
            "WHERE id = %s",
            [event.username, event.prev_hash, event.hash, event.id],
        )
    code, out = verify(checkpoints)
    assert code == 1
    assert f"broken at event {victim}: it was changed after it was written, or forged" in out


def test_inserting_a_forged_event(chain):
    _, checkpoints = chain
    head = AuditEvent.objects.order_by("-id").first()
    forged = AuditEvent(
        timestamp=timezone.now(), username="dr-lee", action="logout", prev_hash=head.hash
    )
    with override_settings(AUDIT_KEY="a-key-the-attacker-made-up-for-this"):
        forged.hash = forged.compute_hash()
    forged.save()  # INSERT: the triggers refuse only UPDATE and DELETE
    code, out = verify(checkpoints)
    assert code == 1
    assert f"broken at event {forged.id}: it was changed after it was written, or forged" in out


def test_editing_a_history_row_with_the_triggers_dropped(chain):
    assessment, checkpoints = chain
    row = assessment.history.get()
    behind_the_app(f"UPDATE {HISTORY} SET tumor_count = 9 WHERE history_id = %s", [row.pk])
    seal = seal_of(row)
    code, out = verify(checkpoints)
    assert code == 1
    assert (
        f"broken at event {seal.id}: the historicalassessment {row.pk} it seals was changed" in out
    )


def test_a_history_row_inserted_behind_the_app(chain):
    assessment, checkpoints = chain
    row = assessment.history.get()
    row.pk = None
    row.tumor_count = 9
    row.save()  # simple-history's model, not the app: no seal is written
    code, out = verify(checkpoints)
    assert code == 1
    assert f"broken at historicalassessment {row.pk}: it is sealed by no event" in out


def test_updating_a_record_behind_the_app(chain):
    assessment, checkpoints = chain
    with connection.cursor() as cursor:  # no trigger on the record itself: the check is here
        cursor.execute(
            "UPDATE assessments_assessment SET recommendation = 'not_recommended', "
            "signed_by_id = created_by_id WHERE id = %s",
            [assessment.pk],
        )
    code, out = verify(checkpoints)
    assert code == 1
    assert f"broken at assessment {assessment.pk}: it differs from its newest history row" in out


@pytest.mark.parametrize("table", ["assessments_assessment", "assessments_patient"])
def test_records_are_never_deleted_even_below_the_app(chain, table):
    with pytest.raises(DatabaseError, match="voided, never deleted"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {table}")
    assert Assessment.objects.count() == 1


def test_replace_cannot_rewrite_a_history_row(chain):
    """SQLite's INSERT OR REPLACE deletes, then inserts: the DELETE trigger fires with
    recursive_triggers on. PostgreSQL's upsert is an UPDATE: its trigger fires."""
    assessment, checkpoints = chain
    row = assessment.history.get()
    columns = [f.column for f in Assessment.history.model._meta.concrete_fields]
    values = ", ".join("9" if c == "tumor_count" else c for c in columns)
    into = f"{HISTORY} ({', '.join(columns)}) SELECT {values} FROM {HISTORY} WHERE history_id = %s"
    if connection.vendor == "sqlite":
        replace = f"INSERT OR REPLACE INTO {into}"
    else:
        replace = (
            f"INSERT INTO {into} "
            "ON CONFLICT (history_id) DO UPDATE SET tumor_count = EXCLUDED.tumor_count"
        )
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(replace, [row.pk])
    assert assessment.history.get().tumor_count == 1
    if connection.vendor == "sqlite":
        # On a connection of the attacker's own, without the pragma, REPLACE goes through:
        # verify_audit still sees the row changed.
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA recursive_triggers = OFF")
            try:
                cursor.execute(replace, [row.pk])
            finally:
                cursor.execute("PRAGMA recursive_triggers = ON")
        seal = seal_of(row)
        code, out = verify(checkpoints)
        assert code == 1
        assert (
            f"broken at event {seal.id}: the historicalassessment {row.pk} it seals was changed"
            in out
        )


def test_a_checkpoint_names_the_head_and_is_appended_mode_600(chain, tmp_path):
    _, checkpoints = chain
    log_event(action="logout", username="dr-lee")
    out = io.StringIO()
    call_command("audit_checkpoint", "--to", str(checkpoints), stdout=out)
    head = AuditEvent.objects.order_by("-id").first()
    assert out.getvalue().split() == [str(head.id), head.hash, head.timestamp.isoformat()]
    lines = checkpoints.read_text().splitlines()
    assert len(lines) == 2 and lines[1] == out.getvalue().strip()
    assert stat.S_IMODE(os.stat(checkpoints).st_mode) == 0o600
    assert "2 checkpoints in it" in verify(checkpoints)[1]


def test_a_checkpoint_of_another_chain_is_refused(chain, tmp_path):
    _, checkpoints = chain
    first = ids()[0]
    checkpoints.write_text(f"{first} {'f' * 64} 2026-01-01T00:00:00+00:00\n")
    code, out = verify(checkpoints)
    assert code == 1
    assert f"broken at event {first}: it is not the event its checkpoint recorded" in out


def test_no_checkpoint_of_an_empty_chain():
    behind_the_app("DELETE FROM assessments_auditevent")  # migrate's seal of the permissions
    with pytest.raises(CommandError, match="empty"):
        call_command("audit_checkpoint", stdout=io.StringIO())


# Records deleted below the app: with the triggers dropped, or on PostgreSQL with
# session_replication_role = replica, which skips every trigger (and foreign key).


def delete_behind_the_app(table, pk):
    """DELETE one row below the app; returns a function that puts it back (the test
    database's foreign keys are checked when the test ends)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE id = %s", [pk])
        columns = [column[0] for column in cursor.description]
        values = cursor.fetchone()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")
            try:
                cursor.execute(f"DELETE FROM {table} WHERE id = %s", [pk])
            finally:
                cursor.execute("SET session_replication_role = DEFAULT")
    else:
        behind_the_app(f"DELETE FROM {table} WHERE id = %s", [pk])

    def put_back():
        marks = ", ".join(["%s"] * len(values))
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", values)

    return put_back


@pytest.fixture
def follow_up(chain, clinician):
    assessment, _ = chain
    form = EVENT_FORMS["no_recurrence"](
        data={"date": timezone.localdate().isoformat()}, patient=assessment.patient
    )
    assert form.is_valid(), form.errors
    return followup_services.record_event(
        patient=assessment.patient, kind="no_recurrence", data=form.cleaned_data, user=clinician
    )


@pytest.mark.parametrize("record_type", ["patient", "assessment", "followupevent"])
def test_a_record_deleted_below_the_app_is_named(chain, follow_up, record_type):
    assessment, checkpoints = chain
    victim = {
        "patient": assessment.patient,
        "assessment": assessment,
        "followupevent": follow_up,
    }[record_type]
    assert verify(checkpoints)[0] == 0
    put_back = delete_behind_the_app(victim._meta.db_table, victim.pk)
    try:
        expected = (
            f"broken at {record_type} {victim.pk}: it has a history but no row "
            "(deleted behind the app)."
        )
        for with_checkpoints in (None, checkpoints):
            code, out = verify(with_checkpoints)
            assert code == 1
            assert expected in out
            assert "1 broken link." in out
    finally:
        put_back()
    assert verify(checkpoints)[0] == 0


def test_a_record_deleted_with_its_history_is_named_by_its_seal(chain):
    assessment, checkpoints = chain
    history = assessment.history.get()
    behind_the_app(f"DELETE FROM {HISTORY} WHERE history_id = %s", [history.pk])
    put_back = delete_behind_the_app("assessments_assessment", assessment.pk)
    try:
        code, out = verify(checkpoints)
        assert code == 1
        seal = seal_of(history)
        assert f"broken at event {seal.id}: the historicalassessment {history.pk} it seals" in out
        assert f"broken at assessment {assessment.pk}: it has a history but no row" in out
    finally:
        put_back()


def test_every_broken_link_is_reported_not_only_the_first(chain):
    assessment, checkpoints = chain
    edited, removed, after = ids()[0], ids()[-2], ids()[-1]  # the last two: views
    behind_the_app("UPDATE assessments_auditevent SET username = 'x' WHERE id = %s", [edited])
    behind_the_app("DELETE FROM assessments_auditevent WHERE id = %s", [removed])
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assessments_assessment SET tumor_count = 9 WHERE id = %s", [assessment.pk]
        )
    code, out = verify(checkpoints)
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        f"The audit chain is broken at event {edited}: it was changed after it was written, "
        "or forged.",
        f"The audit chain is broken at event {after}: it does not follow the event before it "
        "(one was removed or inserted).",
        f"The audit chain is broken at assessment {assessment.pk}: it differs from its newest "
        "history row (changed behind the app).",
        "3 broken links.",
    ]


# Addresses: hashed in the one form the database gives back.


@pytest.mark.parametrize(
    ("remote", "stored"),
    [
        ("::ffff:198.51.100.7", "198.51.100.7"),  # IPv4 through a dual-stack socket
        ("::198.51.100.7", "::c633:6407"),  # PostgreSQL's inet prints it as written
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1"),
    ],
)
def test_an_address_in_any_text_form_keeps_the_chain_intact(
    chain, client, clinician, remote, stored
):
    assessment, checkpoints = chain
    client.force_login(clinician)
    client.get(assessment.get_absolute_url(), REMOTE_ADDR=remote)
    viewed = AuditEvent.objects.filter(action="view_assessment").order_by("-id").first()
    # PostgreSQL prints an IPv4-compatible address its own way ("::198.51.100.7").
    assert proxy.canonical(viewed.client_ip) == stored
    if remote != "::198.51.100.7" or connection.vendor == "sqlite":
        assert viewed.client_ip == stored
    assert verify(checkpoints) == (
        0,
        f"The audit chain is intact ({AuditEvent.objects.count()} events, 1 checkpoints in it).\n",
    )


def test_an_event_written_before_addresses_were_canonical_still_verifies(chain):
    """Before, the hash covered str() of Python's address ("::ffff:c633:6407"), and the
    database kept another form; such events are not tampering."""
    _, checkpoints = chain
    event = log_event(action="logout", username="dr-lee")
    written = event.compute_hash(client_ip="::ffff:c633:6407")
    behind_the_app(
        "UPDATE assessments_auditevent SET client_ip = %s, hash = %s WHERE id = %s",
        ["::ffff:198.51.100.7", written, event.id],
    )
    assert verify(checkpoints)[0] == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no TRUNCATE")
@pytest.mark.parametrize(
    "table",
    [
        "assessments_auditevent",
        HISTORY,
        "assessments_historicalpatient",
        "assessments_historicalfollowupevent",
        "assessments_assessment",
        "assessments_patient",
        "assessments_followupevent",
    ],
)
def test_truncate_is_refused(chain, table):
    count = AuditEvent.objects.count()
    with connection.cursor() as cursor:  # the test's own pending foreign key checks
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    # CASCADE: the tables referring to it too, each refusing (whichever fires first).
    with pytest.raises(DatabaseError, match=r"assessments_\w+ is never truncated"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {table} CASCADE")
    assert AuditEvent.objects.count() == count
    assert Assessment.objects.count() == 1
