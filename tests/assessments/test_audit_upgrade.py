"""Migration 0009 on a database written before the chain was keyed: the old events stay
verifiable, anchored by a keyed event, and the history written so far is sealed."""

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from simple_history.signals import post_create_historical_record

from assessments.audit import (
    drop_append_only_triggers,
    first_broken_link,
    install_append_only_triggers,
    log_event,
    row_digest,
    seal_history_row,
)
from assessments.audit.seals import seal_what_differs
from assessments.models import AuditEvent, Patient
from tests.factories import record

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "assessments.migrations.0009_key_the_chain_and_seal_existing_history"
)


@pytest.fixture
def before_the_upgrade():
    """Three unkeyed events and a patient whose history row no event seals; upgraded,
    and its accounts sealed by migrate as an upgrade's migrate seals them."""
    drop_append_only_triggers(connection)  # a chain from before: not this one's seals
    AuditEvent.objects.all().delete()
    install_append_only_triggers(connection)
    prev = AuditEvent.GENESIS
    for number in range(3):
        event = AuditEvent(
            timestamp=timezone.now(), username=f"old-{number}", action="login", prev_hash=prev
        )
        event.hash = prev = event.compute_legacy_hash()
        event.save()
    post_create_historical_record.disconnect(dispatch_uid="history_seal")
    try:
        patient = Patient.objects.create(mrn="OLD-9")
    finally:
        post_create_historical_record.connect(seal_history_row, dispatch_uid="history_seal")
    assert first_broken_link() is not None  # unkeyed: not valid as it stands
    migration.key_the_chain(apps, SimpleNamespace(connection=connection))
    seal_what_differs(change="migrate")
    return patient


def test_the_upgrade_keys_the_chain_and_seals_the_history(before_the_upgrade):
    assert first_broken_link() is None
    marker, seal = AuditEvent.objects.order_by("id")[3:5]
    assert marker.action == "chain_keyed" and marker.detail == {"unkeyed_events": 3}
    history = before_the_upgrade.history.get()
    assert (seal.action, seal.object_type, seal.object_id) == (
        "record_changed",
        "historicalpatient",
        str(history.history_id),
    )


def test_an_old_event_edited_and_rechained_unkeyed_is_caught(before_the_upgrade):
    first, second, third, marker = AuditEvent.objects.order_by("id")[:4]
    second.username = "someone-else"
    second.hash = second.compute_legacy_hash()
    third.prev_hash = second.hash
    third.hash = third.compute_legacy_hash()
    drop_append_only_triggers(connection)
    with connection.cursor() as cursor:
        for event in (second, third):
            cursor.execute(
                "UPDATE assessments_auditevent SET username = %s, prev_hash = %s, hash = %s "
                "WHERE id = %s",
                [event.username, event.prev_hash, event.hash, event.id],
            )
    install_append_only_triggers(connection)
    assert first_broken_link() == (
        f"event {marker.id}",
        "it does not follow the event before it (one was removed or inserted)",
    )


def _sealed_as_before(columns: list[str], clinician):
    """An assessment whose history row was sealed before `columns` existed."""
    record(clinician)  # the patient, sealed as usual
    post_create_historical_record.disconnect(dispatch_uid="history_seal")
    try:  # a resection of its own, so that nothing is confirmed as a possible duplicate
        resected = (timezone.localdate() - timedelta(days=40)).isoformat()
        assessment = record(clinician, resection_date=resected)
    finally:
        post_create_historical_record.connect(seal_history_row, dispatch_uid="history_seal")
    history = assessment.history.model
    row = history.objects.filter(pk=assessment.history.get().pk).values().get()
    old = {name: value for name, value in row.items() if name not in columns}
    log_event(
        action=AuditEvent.Action.RECORD_CHANGED,
        user=clinician,
        obj=assessment.history.get(),
        patient=assessment.patient,
        detail={"action": "created", "digest": row_digest(old)},
    )
    return assessment, history


PATHOLOGY = [
    "resection_margin",
    "satellite_nodules",
    "mvi_grade",
    "afp_before_ng_ml",
    "afp_after_ng_ml",
    "tumor_rupture",
]


# A row sealed before a migration also predates every later one.
CONFIRMATIONS = ["confirmations"]  # 0019


@pytest.mark.parametrize(
    ("columns", "change"),
    [
        (CONFIRMATIONS, {"confirmations": ["tumor_size_cm"]}),
        ([*PATHOLOGY, *CONFIRMATIONS], {"mvi_grade": "m2"}),
        ([*PATHOLOGY, "signed_version", "self_signed", *CONFIRMATIONS], {"mvi_grade": "m2"}),
    ],
    ids=["0019", "0015", "0011"],
)
def test_rows_sealed_before_a_column_was_added_still_verify(clinician, columns, change):
    assessment, history = _sealed_as_before(columns, clinician)
    assert first_broken_link() is None
    drop_append_only_triggers(connection)
    try:  # a value in the new column, behind the app: the old seal no longer matches it
        history.objects.filter(history_id=assessment.history.get().pk).update(**change)
    finally:
        install_append_only_triggers(connection)
    broken = first_broken_link()
    assert broken is not None and "was changed" in broken[1]


def test_a_row_sealed_without_an_older_column_is_not_accepted_as_newer(clinician):
    # Sealed as if 0011's columns were missing but 0015's present: no such database existed.
    assessment, _ = _sealed_as_before(["signed_version", "self_signed", *CONFIRMATIONS], clinician)
    assert first_broken_link() is not None
