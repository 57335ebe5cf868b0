import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings

from assessments import audit, rules
from assessments.audit import first_broken_link
from assessments.models import Assessment, AuditEvent, FollowUpEvent, HistoryAction, Patient
from tests.factories import record

pytestmark = pytest.mark.django_db


def seed_demo(*args, **options) -> str:
    out = io.StringIO()
    with override_settings(DEBUG=True):
        call_command("seed_demo", *args, stdout=out, **options)
    return out.getvalue()


def test_counts_and_mrns():
    out = seed_demo(count=41)
    assert Assessment.objects.count() == 41
    # Every other assessment is a new patient's; the others follow one up.
    mrns = list(Patient.objects.order_by("mrn").values_list("mrn", flat=True))
    assert mrns == [f"DEMO-{number:05d}" for number in range(21)]
    assert "41 assessments" in out
    assert Assessment.objects.exclude(status=Assessment.Status.DRAFT).exists()


def test_every_version_has_its_history_row():
    seed_demo(count=60)
    for assessment in Assessment.objects.all():
        rows = list(assessment.history.order_by("history_id"))
        # One row per version, the first the creation, the last the row as it is.
        assert len(rows) == assessment.version
        assert (rows[0].action, rows[0].history_type) == (HistoryAction.CREATED, "+")
        assert all(row.history_type == "~" for row in rows[1:])
        assert all(row.history_user_id is not None for row in rows)
        assert [row.history_date for row in rows] == sorted(row.history_date for row in rows)
        last = rows[-1]
        for name in ("status", "recommendation", "tumor_size_cm", "signed_by_id", "ruleset"):
            assert getattr(last, name) == getattr(assessment, name), name
        for row in rows:
            if row.action in (HistoryAction.AMENDED, HistoryAction.VOIDED):
                assert row.history_change_reason
    for patient in Patient.objects.all():
        assert patient.history.get().action == HistoryAction.CREATED
    actions = set(Assessment.history.values_list("action", flat=True))
    assert {HistoryAction.CREATED, HistoryAction.AMENDED, HistoryAction.SIGNED} <= actions


def test_results_come_from_the_rules_engine():
    seed_demo(count=80)
    for assessment in Assessment.objects.all():
        result = rules.evaluate(assessment.rule_inputs, ruleset=assessment.ruleset)
        assert result.recommendation == assessment.recommendation
        assert result.cautions == assessment.cautions
        assert result.liver_function == assessment.liver_function
    assert set(Assessment.objects.values_list("ruleset", flat=True)) == set(rules.RULESETS)
    assert Assessment.objects.filter(child_pugh_class__isnull=False).exists()


def test_demo_users_and_a_sound_audit_chain(client, monkeypatch):
    monkeypatch.setenv("SEED_DEMO_PASSWORD", "a-demo-password-for-tests")
    out = seed_demo(count=10)
    assert "password: a-demo-password-for-tests" in out
    users = get_user_model().objects
    assert users.get(username="demo-clinician-1").groups.get().name == "Clinicians"
    assert users.get(username="demo-reviewer-2").groups.get().name == "Reviewers"
    # Through the login page: the login throttle needs the request.
    login = {"username": "demo-reviewer-1", "password": "a-demo-password-for-tests"}
    assert client.post("/accounts/login/", login).status_code == 302
    assert AuditEvent.objects.filter(action=AuditEvent.Action.VIEW_ASSESSMENT).count() == 10
    assert first_broken_link() is None


def test_every_seeded_event_is_chained_by_the_audit_module(monkeypatch):
    chained = []

    def append(events, **kwargs):
        chained.extend(event.hash for event in audit.chain.append(events, **kwargs))
        return events

    monkeypatch.setattr(audit, "append", append)
    seed_demo(count=12)
    Action = AuditEvent.Action
    seeded = AuditEvent.objects.filter(
        action__in=[Action.RECORD_CHANGED, Action.VIEW_ASSESSMENT, Action.VIEW_HISTORY]
    )
    assert seeded.count() > 12 and None not in chained
    assert set(seeded.values_list("hash", flat=True)) <= set(chained)


def test_every_seeded_history_row_is_sealed_by_the_audit_module(monkeypatch):
    sealed = []

    def history_seals(history_model, **kwargs):
        seals = audit.signals.history_seals(history_model, **kwargs)
        sealed.extend((seal.object_type, seal.object_id) for seal in seals)
        return seals

    monkeypatch.setattr(audit, "history_seals", history_seals)
    seed_demo(count=12)
    seals = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED)
    rows = sum(model.history.count() for model in (Patient, Assessment, FollowUpEvent))
    assert len(sealed) == rows == seals.count()
    assert set(seals.values_list("object_type", "object_id")) == set(sealed)


def test_the_seeded_seals_name_their_record_as_the_app_does():
    seed_demo(count=8)
    seals = AuditEvent.objects.filter(action=AuditEvent.Action.RECORD_CHANGED)
    history = {
        model.history.model._meta.model_name: model.history.model for model in (Assessment, Patient)
    }
    for seal in seals.filter(object_type__in=history):
        row = history[seal.object_type].objects.values().get(history_id=seal.object_id)
        assert seal.detail == audit.seal_detail(row)
        assert seal.detail["record"] == row["id"]


def test_a_new_password_each_time_without_one_given():
    first = re.search(r"password: (\S+)", seed_demo(count=1))[1]
    second = re.search(r"password: (\S+)", seed_demo(count=1))[1]
    assert first != second and len(first) >= 12


def test_a_second_run_adds_after_the_first():
    seed_demo(count=4)
    seed_demo(count=4, seed=2)
    assert Assessment.objects.count() == 8
    assert Patient.objects.order_by("-mrn").first().mrn == "DEMO-00003"
    # The app goes on after the seeded rows (on PostgreSQL, the sequences were reset).
    record(get_user_model().objects.get(username="demo-clinician-1"), mrn="DEMO-00004")


def test_refuses_a_database_with_real_patients(clinician):
    record(clinician, mrn="MRN-1")
    with pytest.raises(CommandError, match="not a demo database"):
        seed_demo(count=5)
    assert Assessment.objects.count() == 1
    seed_demo(count=5, force=True)
    assert Assessment.objects.count() == 6
    assert Patient.objects.filter(mrn="MRN-1").exists()


def test_refuses_with_debug_off():
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("seed_demo", count=5)
    assert not Assessment.objects.exists()
    assert not get_user_model().objects.exists()


def test_follow_up_follows_the_rules_of_the_record():
    from django.utils import timezone

    from assessments.models import FollowUpEvent
    from outcomes import report as outcomes

    seed_demo(count=600)
    today = timezone.localdate()
    events = list(FollowUpEvent.objects.select_related("assessment"))
    assert {event.kind for event in events} == set(FollowUpEvent.Kind.values)
    resections = {}
    for assessment in Assessment.objects.exclude(status=Assessment.Status.VOIDED):
        first = resections.get(assessment.patient_id)
        resections[assessment.patient_id] = min(
            first or assessment.resection_date, assessment.resection_date
        )
    deaths = {e.patient_id: e.date for e in events if e.kind == FollowUpEvent.Kind.DEATH}
    for event in events:
        assert resections[event.patient_id] <= event.date <= today
        assert event.date <= deaths.get(event.patient_id, today)
        if event.kind == FollowUpEvent.Kind.TACE_SESSION:
            assert event.assessment.patient_id == event.patient_id
            assert event.assessment.resection_date <= event.date
        (row,) = event.history.all()
        assert (row.action, row.history_type) == (HistoryAction.CREATED, "+")
    assert len(deaths) == len({e.patient_id for e in events if e.kind == "death"})
    report = outcomes.report(filters=outcomes.Filters(), today=today)
    high, low = report.by_risk.curves
    assert high.at_marks[2]["survival"] < low.at_marks[2]["survival"]  # at 12 months
    adherence = {row["code"]: row["count"] for row in report.adherence["recommended"]}
    assert adherence["inside"] == max(adherence.values())
    assert adherence["after"] and adherence["never"]
    assert {row["code"]: row["count"] for row in report.adherence["not_recommended"]}["given"]
    assert first_broken_link() is None
