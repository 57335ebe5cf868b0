"""The audit trail: the history page, audited views, logins and exports, append-only tables,
the chain's verification."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from assessments.audit import drop_append_only_triggers, install_append_only_triggers
from assessments.models import AuditEvent
from tests.factories import PASSWORD, amend_data, events, record

pytestmark = pytest.mark.django_db


def history_count(assessment):
    return assessment.history.count()


def test_history_page_answers_who_when_what_and_why(client, clinician, reviewer):
    assessment = record(clinician, tumor_size_cm="4.0")
    client.force_login(clinician)
    client.post(
        reverse("assessments:edit", args=[assessment.pk]),
        amend_data(assessment, tumor_size_cm="5.5", change_reason="Re-measured on the specimen"),
    )
    client.force_login(reviewer)
    response = client.get(reverse("assessments:history", args=[assessment.pk]))
    versions = response.context["versions"]
    assert [v["record"].action for v in versions] == ["amended", "created"]
    changes = {c["field"]: (c["old"], c["new"]) for c in versions[0]["changes"]}
    assert changes["tumor_size_cm"] == ("4.0", "5.5")
    assert changes["recommendation"] == ("Not recommended", "Recommended")
    assert changes["risk_factors"] == ("(none)", "Largest tumor > 5 cm")
    html = response.content.decode()
    assert "Re-measured on the specimen" in html
    assert "dr-lee" in html
    assert "(the recommendation changed)" in html
    assert "UTC" in html


def test_viewing_is_audited(reviewer_client, reviewer, clinician):
    assessment = record(clinician)
    reviewer_client.get(assessment.get_absolute_url())
    reviewer_client.get(reverse("assessments:history", args=[assessment.pk]))
    (viewed,) = events("view_assessment")
    assert viewed.user == reviewer
    assert viewed.object_id == str(assessment.pk)
    assert viewed.patient == assessment.patient
    (history,) = events("view_history")
    assert history.user == reviewer


def test_login_logout_and_failed_login_are_audited(client, clinician):
    client.post(
        reverse("login"), {"username": "dr-lee", "password": "nope"}, REMOTE_ADDR="10.1.2.3"
    )
    client.post(reverse("login"), {"username": "dr-lee", "password": PASSWORD})
    client.post(reverse("logout"))
    (failed,) = events("login_failed")
    assert (failed.username, failed.client_ip, failed.user) == ("dr-lee", "10.1.2.3", None)
    assert events("login")[0].user == clinician
    assert events("logout")[0].user == clinician


def test_audit_log_filters(reviewer_client, reviewer, clinician):
    first = record(clinician, mrn="AA-1")
    second = record(clinician, mrn="BB-2")
    reviewer_client.get(first.get_absolute_url())
    reviewer_client.get(second.get_absolute_url())
    url = reverse("assessments:audit_log")

    def shown(**params):
        return list(reviewer_client.get(url, params).context["page"].object_list)

    assert {e.patient for e in shown(action="view_assessment")} == {first.patient, second.patient}
    assert shown(user="nobody") == []
    assert {e.username for e in shown(user="REV-KIM")} == {"rev-kim"}
    assert shown(date_from="2999-01-01") == []
    assert len(shown(date_to="2999-01-01", action="view_assessment")) == 2
    assert shown(date_from="2026-02-30") == shown()  # an impossible date is ignored
    # An MRN is posted, never put in a URL: it becomes the patient's record id.
    response = reviewer_client.post(url, {"mrn": "aa-1", "action": "view_assessment"})
    assert "AA-1" not in response["Location"].upper()
    filtered = reviewer_client.get(response["Location"])
    assert [e.patient for e in filtered.context["page"].object_list] == [first.patient]
    assert filtered.context["filters"]["mrn"] == "AA-1"
    response = reviewer_client.post(url, {"mrn": "ZZ-404"})
    assert list(reviewer_client.get(response["Location"]).context["page"].object_list) == []


def test_audit_export_is_logged_and_escaped(reviewer_client, reviewer):
    AuditEvent.objects.all()  # the chain may already hold user-creation events
    from assessments.audit import log_event

    log_event(action="login_failed", username="=cmd|' /C calc'!A0")
    response = reviewer_client.get(reverse("assessments:audit_export"), {"action": "login_failed"})
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["id", "time (UTC)", "user", "action"]
    assert rows[1][2] == "'=cmd|' /C calc'!A0"
    (export,) = events("export")
    assert export.user == reviewer
    assert export.detail["filters"] == {"action": "login_failed"}


def test_user_and_group_changes_are_audited(clinician, reviewer, reviewer_client):
    before = AuditEvent.objects.count()
    clinician.groups.add(Group.objects.get(name="Reviewers"))
    seal, event = AuditEvent.objects.order_by("-id")[:2][::-1]
    assert AuditEvent.objects.count() == before + 2  # the account's new seal, then the change
    assert (seal.action, seal.detail["model"], seal.detail["change"]) == (
        "account_sealed",
        "auth.user",
        "groups add",
    )
    assert event.action == "user_changed"
    assert event.detail == {"target": "user dr-lee", "change": "groups add", "items": ["Reviewers"]}
    reviewer_client.force_login(reviewer)
    html = reviewer_client.get(reverse("assessments:audit_log")).content.decode()
    assert "change: groups add; items: Reviewers; target: user dr-lee" in html
    clinician.is_active = False
    clinician.save()
    event = AuditEvent.objects.order_by("-id").first()
    assert event.detail["change"] == "changed" and event.detail["is_active"] is False


# Append-only below the application, and the hash chain


@pytest.mark.parametrize(
    "table",
    ["assessments_historicalassessment", "assessments_historicalpatient", "assessments_auditevent"],
)
@pytest.mark.parametrize("statement", ["UPDATE {} SET id = id", "DELETE FROM {}"])
def test_database_refuses_update_and_delete_of_audit_rows(clinician, table, statement):
    record(clinician)
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement.format(table))


def test_orm_delete_of_history_is_refused(clinician):
    assessment = record(clinician)
    with pytest.raises(DatabaseError), transaction.atomic():
        assessment.history.all().delete()
    assert history_count(assessment) == 1


def verify():
    out = io.StringIO()
    try:
        call_command("verify_audit", stdout=out)
        return 0, out.getvalue()
    except SystemExit as exit:
        return exit.code, out.getvalue()


def test_verify_audit_intact_then_tampered(clinician_client, clinician):
    assessment = record(clinician)
    for _ in range(3):
        clinician_client.get(assessment.get_absolute_url())
    code, out = verify()
    assert code == 0 and "intact" in out
    victim = AuditEvent.objects.order_by("id")[2]
    drop_append_only_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE assessments_auditevent SET username = %s WHERE id = %s", ["x", victim.id]
        )
    install_append_only_triggers(connection)
    code, out = verify()
    assert code == 1
    assert f"broken at event {victim.id}: it was changed" in out


def test_verify_audit_finds_a_removed_event(clinician_client, clinician):
    assessment = record(clinician)
    for _ in range(3):
        clinician_client.get(assessment.get_absolute_url())
    ids = list(AuditEvent.objects.order_by("id").values_list("id", flat=True))
    drop_append_only_triggers(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM assessments_auditevent WHERE id = %s", [ids[1]])
    install_append_only_triggers(connection)
    code, out = verify()
    assert code == 1
    assert f"broken at event {ids[2]}: it does not follow" in out


# Admin
