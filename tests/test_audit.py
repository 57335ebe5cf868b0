import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from assessments.audit import drop_append_only_triggers, install_append_only_triggers
from assessments.models import Assessment, AuditEvent
from tests.conftest import PASSWORD, record

pytestmark = pytest.mark.django_db


def amend_data(assessment, **changes):
    data = {
        "resection_date": assessment.resection_date.isoformat(),
        "tumor_size_cm": str(assessment.tumor_size_cm),
        "tumor_count": str(assessment.tumor_count),
        "vascular_invasion": assessment.vascular_invasion,
        "cirrhosis_grade": assessment.cirrhosis_grade,
        "prior_adjuvant_tace_sessions": str(assessment.prior_adjuvant_tace_sessions),
        "notes": assessment.notes,
        "change_reason": "Pathology report revised the tumor size.",
        "version": str(assessment.version),
    }
    return {**data, **changes}


def history_count(assessment):
    return assessment.history.count()


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# Roles


def test_roles_exist_with_least_privilege():
    def role(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    clinicians, consultants, reviewers = role("Clinicians"), role("Consultants"), role("Reviewers")
    assert {"add_assessment", "change_assessment", "void_assessment"} <= clinicians
    # Two-person sign-off: clinicians record, consultants sign.
    assert "sign_assessment" not in clinicians
    assert consultants == clinicians | {"sign_assessment", "export_assessment"}
    assert "view_auditevent" not in consultants
    assert reviewers == {
        "view_patient",
        "view_assessment",
        "view_historicalassessment",
        "view_historicalpatient",
        "view_auditevent",
        "export_assessment",
    }
    everyone = clinicians | consultants | reviewers
    assert not any(code.startswith("delete_") for code in everyone)


# Each write path adds exactly one history row, with user, action and reason


def test_create_writes_one_history_row(clinician):
    assessment = record(clinician)
    (row,) = assessment.history.all()
    assert row.action == "created"
    assert row.history_user == clinician
    assert assessment.patient.history.get().action == "created"


def test_amend_form_is_filled_from_the_assessment(clinician_client, clinician):
    assessment = record(clinician, tumor_size_cm="4.4", notes="Seen in clinic")
    response = clinician_client.get(reverse("assessments:edit", args=[assessment.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form["tumor_size_cm"].value() == assessment.tumor_size_cm
    assert form["notes"].value() == "Seen in clinic"
    # A date input only shows an ISO date.
    resected = assessment.resection_date.isoformat()
    assert f'type="date" name="resection_date" value="{resected}"' in response.content.decode()
    assert form["version"].value() == 1
    assert form["change_reason"].value() is None
    assert "mrn" not in form.fields


def test_sign_and_void_pages_render(consultant_client, clinician):
    assessment = record(clinician)
    for name in ["sign", "void"]:
        response = consultant_client.get(reverse(f"assessments:{name}", args=[assessment.pk]))
        assert response.status_code == 200
        assert response.context["form"]["version"].value() == 1


def test_amend_writes_one_row_with_reason_and_recomputes(clinician_client, clinician):
    assessment = record(clinician)
    assert assessment.recommendation == "not_recommended"
    response = clinician_client.post(
        reverse("assessments:edit", args=[assessment.pk]),
        amend_data(assessment, tumor_size_cm="6.5"),
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.tumor_size_cm == 6.5
    assert assessment.recommendation == "recommended"
    assert assessment.risk_factors == ["tumor_gt_5cm"]
    assert assessment.version == 2
    assert history_count(assessment) == 2
    latest = assessment.history.first()
    assert latest.action == "amended"
    assert latest.history_user == clinician
    assert latest.history_change_reason == "Pathology report revised the tumor size."


@pytest.mark.parametrize("reason", ["", "   ", "typo"])
def test_amend_without_a_reason_changes_nothing(clinician_client, clinician, reason):
    assessment = record(clinician)
    response = clinician_client.post(
        reverse("assessments:edit", args=[assessment.pk]),
        amend_data(assessment, tumor_size_cm="6.5", change_reason=reason),
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["change_reason"]
    assert 'value="6.5"' in response.content.decode()
    assessment.refresh_from_db()
    assert str(assessment.tumor_size_cm) == "3.0"
    assert history_count(assessment) == 1


def test_amend_with_bad_value_changes_nothing(clinician_client, clinician):
    assessment = record(clinician)
    response = clinician_client.post(
        reverse("assessments:edit", args=[assessment.pk]), amend_data(assessment, tumor_count="0")
    )
    assert list(response.context["form"].errors) == ["tumor_count"]
    assert history_count(assessment) == 1


def test_sign_with_password(consultant_client, clinician, consultant):
    assessment = record(clinician)
    response = consultant_client.post(
        reverse("assessments:sign", args=[assessment.pk]),
        {"password": PASSWORD, "version": assessment.version},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "signed"
    assert assessment.signed_by == consultant
    assert assessment.signed_at is not None
    assert assessment.signature_meaning == "reviewed and approved"
    assert assessment.signed_version == 1
    assert not assessment.self_signed
    assert history_count(assessment) == 2
    assert assessment.history.first().action == "signed"


def test_sign_with_wrong_password_signs_nothing_and_is_a_failed_login(consultant_client, clinician):
    assessment = record(clinician)
    response = consultant_client.post(
        reverse("assessments:sign", args=[assessment.pk]),
        {"password": "wrong-password", "version": assessment.version},
    )
    assert response.status_code == 200
    assert "The password is not correct" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.status == "draft"
    assert history_count(assessment) == 1
    (failed,) = events("login_failed")
    assert failed.username == "dr-wu"
    assert failed.client_ip == "127.0.0.1"


def test_amending_a_signed_assessment_withdraws_the_signature(client, clinician, consultant):
    assessment = record(clinician)
    client.force_login(consultant)
    client.post(
        reverse("assessments:sign", args=[assessment.pk]), {"password": PASSWORD, "version": 1}
    )
    assessment.refresh_from_db()
    assert assessment.status == "signed"
    client.force_login(clinician)
    client.post(
        reverse("assessments:edit", args=[assessment.pk]), amend_data(assessment, notes="MDT 3/2")
    )
    assessment.refresh_from_db()
    assert assessment.status == "draft"
    assert assessment.signed_by is None
    assert assessment.signed_version is None
    latest = assessment.history.first()
    assert latest.action == "signature_withdrawn"
    assert latest.get_action_display() == "Amended; signature withdrawn"
    html = client.get(reverse("assessments:history", args=[assessment.pk])).content
    assert b"Amended; signature withdrawn" in html


def test_void_keeps_the_record(clinician_client, clinician):
    assessment = record(clinician, mrn="VOID-1")
    response = clinician_client.post(
        reverse("assessments:void", args=[assessment.pk]),
        {"reason": "Entered for the wrong patient.", "version": 1},
    )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "voided"
    assert assessment.void_reason == "Entered for the wrong patient."
    assert assessment.voided_by == clinician
    assert history_count(assessment) == 2
    assert assessment.history.first().action == "voided"
    assert assessment.history.first().history_change_reason == "Entered for the wrong patient."

    listed = clinician_client.get(reverse("assessments:list")).context["page"].object_list
    assert assessment not in listed
    listed = clinician_client.get(reverse("assessments:list"), {"voided": "1"}).context["page"]
    assert assessment in listed.object_list
    html = clinician_client.get(assessment.get_absolute_url()).content.decode()
    assert 'data-status="voided"' in html
    assert "Entered for the wrong patient." in html
    assert 'class="row g-4 voided"' in html


def test_void_without_reason_changes_nothing(clinician_client, clinician):
    assessment = record(clinician)
    response = clinician_client.post(
        reverse("assessments:void", args=[assessment.pk]), {"reason": "", "version": 1}
    )
    assert list(response.context["form"].errors) == ["reason"]
    assessment.refresh_from_db()
    assert assessment.status == "draft"


@pytest.mark.parametrize("action", ["edit", "sign", "void"])
def test_a_voided_assessment_cannot_change(consultant_client, clinician, action):
    assessment = record(clinician)
    consultant_client.post(
        reverse("assessments:void", args=[assessment.pk]),
        {"reason": "Duplicate entry", "version": 1},
    )
    data = {**amend_data(assessment), "password": PASSWORD, "reason": "again", "version": "2"}
    response = consultant_client.post(reverse(f"assessments:{action}", args=[assessment.pk]), data)
    assert response.status_code == 302
    assert history_count(assessment) == 2


def test_two_clinicians_editing_at_once(client, clinician, other_clinician):
    assessment = record(clinician)
    url = reverse("assessments:edit", args=[assessment.pk])
    client.force_login(clinician)
    opened_by_lee = amend_data(assessment, notes="Lee's note")
    client.force_login(other_clinician)
    assert client.post(url, amend_data(assessment, tumor_count="3")).status_code == 302
    client.force_login(clinician)
    response = client.post(url, opened_by_lee)
    assert response.status_code == 200
    html = response.content.decode()
    assert "dr-ng changed this assessment" in html
    assert "Lee&#x27;s note" in html
    assessment.refresh_from_db()
    assert assessment.tumor_count == 3
    assert assessment.notes == ""
    assert assessment.version == 2
    assert history_count(assessment) == 2


# Reviewers and users with no role


@pytest.mark.parametrize("action", ["edit", "sign", "void"])
def test_reviewer_cannot_write(reviewer_client, clinician, reviewer, action):
    assessment = record(clinician)
    url = reverse(f"assessments:{action}", args=[assessment.pk])
    assert reviewer_client.get(url).status_code == 403
    data = {**amend_data(assessment), "password": PASSWORD, "reason": "Reviewer try"}
    assert reviewer_client.post(url, data).status_code == 403
    assessment.refresh_from_db()
    assert assessment.version == 1 and assessment.status == "draft"
    refused = events("permission_denied")
    assert len(refused) == 2
    assert refused[-1].user == reviewer
    assert refused[-1].detail["method"] == "POST"


def test_reviewer_cannot_create(reviewer_client, valid_data):
    assert reviewer_client.post(reverse("assessments:create"), valid_data).status_code == 403
    assert not Assessment.objects.exists()


def test_reviewer_reads_everything(reviewer_client, clinician):
    assessment = record(clinician)
    for url in [
        reverse("assessments:list"),
        assessment.get_absolute_url(),
        reverse("assessments:history", args=[assessment.pk]),
        assessment.patient.get_absolute_url(),
        reverse("assessments:audit_log"),
    ]:
        assert reviewer_client.get(url).status_code == 200, url


def test_clinician_does_not_see_the_audit_log(clinician_client):
    assert clinician_client.get(reverse("assessments:audit_log")).status_code == 403


def test_user_without_role_gets_a_clear_403(client, no_role_user, clinician):
    assessment = record(clinician)
    client.force_login(no_role_user)
    for url in [reverse("assessments:list"), assessment.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 403
        assert b"You do not have permission" in response.content
        assert b"MRN-1" not in response.content


@pytest.mark.parametrize("name", ["edit", "sign", "void", "history"])
def test_anonymous_sent_to_login(client, clinician, name):
    assessment = record(clinician)
    response = client.get(reverse(f"assessments:{name}", args=[assessment.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# What a reviewer sees


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
    assert changes["risk_factors"] == ("(none)", "tumor_gt_5cm")
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
    event = AuditEvent.objects.order_by("-id").first()
    assert AuditEvent.objects.count() == before + 1
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


@pytest.fixture
def admin_client_(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    return client


def test_admin_cannot_delete_or_edit(admin_client_, clinician):
    assessment = record(clinician)
    event = AuditEvent.objects.first()
    for url in [
        reverse("admin:assessments_assessment_delete", args=[assessment.pk]),
        reverse("admin:assessments_auditevent_delete", args=[event.pk]),
        reverse("admin:assessments_patient_delete", args=[assessment.patient.pk]),
    ]:
        assert admin_client_.post(url, {"post": "yes"}).status_code == 403, url
    change = reverse("admin:assessments_assessment_change", args=[assessment.pk])
    assert admin_client_.post(change, {"tumor_count": "9"}).status_code == 403
    history = assessment.history.first()
    revert = reverse(
        "admin:assessments_assessment_simple_history", args=[assessment.pk, history.history_id]
    )
    assert admin_client_.post(revert, {"tumor_count": "9"}).status_code != 302
    assert history_count(assessment) == 1
    assessment.refresh_from_db()
    assert assessment.tumor_count == 1
    assert Assessment.objects.count() == 1


def test_admin_lists_and_filters(admin_client_, clinician):
    record(clinician)
    url = reverse("admin:assessments_assessment_changelist")
    response = admin_client_.get(url, {"status__exact": "draft", "q": "MRN-1"})
    assert response.status_code == 200
    assert b"MRN-1" in response.content
    assert admin_client_.get(reverse("admin:assessments_auditevent_changelist")).status_code == 200


def test_admin_csv_export_is_logged_and_escaped(admin_client_, clinician):
    assessment = record(clinician, notes='=HYPERLINK("http://x")')
    response = admin_client_.post(
        reverse("admin:assessments_assessment_changelist"),
        {"action": "export_csv", "_selected_action": [assessment.pk]},
    )
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[1][1] == "MRN-1"
    assert rows[1][-1] == '\'=HYPERLINK("http://x")'
    (export,) = events("export")
    assert export.detail == {"what": "assessments", "ids": [assessment.pk]}
