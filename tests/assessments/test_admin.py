"""The admin is read-only: no edit, delete or revert, for superusers too; its CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from assessments.models import Assessment, AuditEvent, Patient
from tests.factories import PASSWORD, events, record

pytestmark = pytest.mark.django_db


def history_count(assessment):
    return assessment.history.count()


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
    assert admin_client_.post(revert, {"tumor_count": "9"}).status_code == 405
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


# From the penetration test: django-simple-history's history form view wrote through
# the read-only admin.


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", password=PASSWORD))
    return client


def form_data(response, **changes):
    """What a browser would post back from the history form, with changes."""
    form = response.context["adminform"].form
    data = {name: field.prepare_value(form[name].value()) for name, field in form.fields.items()}
    return {**{name: value for name, value in data.items() if value is not None}, **changes}


def test_the_revert_page_is_view_only_and_refuses_post(superuser_client, clinician, reviewer):
    assessment = record(clinician)
    history = assessment.history.get()
    url = reverse(
        "admin:assessments_assessment_simple_history", args=[assessment.pk, history.history_id]
    )
    page = superuser_client.get(url)
    assert page.status_code == 200
    assert b"Revert" not in page.content

    response = superuser_client.post(
        url,
        form_data(
            page,
            recommendation="not_recommended",
            signed_by=str(reviewer.pk),
            risk_factors='["no_such_code"]',
            tumor_count="9",
        ),
    )
    assert response.status_code == 405, response.status_code
    assessment.refresh_from_db()
    assert assessment.tumor_count == 1
    assert assessment.signed_by is None
    assert assessment.version == 1
    assert assessment.history.count() == 1
    assert Assessment.objects.count() == 1


def test_a_patients_revert_page_refuses_post(superuser_client, clinician):
    patient = record(clinician).patient
    history = patient.history.get()
    url = reverse("admin:assessments_patient_simple_history", args=[patient.pk, history.history_id])
    page = superuser_client.get(url)
    assert page.status_code == 200
    assert superuser_client.post(url, form_data(page, mrn="OTHER-1")).status_code == 405
    patient.refresh_from_db()
    assert patient.mrn == "MRN-1"
    assert Patient.objects.get().history.count() == 1


# django-axes' lockouts and access logs: deleting one in the admin is audited


def _access(model, **fields):
    return model.objects.create(
        username="dr-lee",
        ip_address="10.0.0.7",
        user_agent="test",
        http_accept="*/*",
        path_info="/accounts/login/",
        **fields,
    )


def test_deleting_a_lockout_in_the_admin_is_audited(admin_client_):
    from axes.models import AccessAttempt

    attempt = _access(AccessAttempt, get_data="", post_data="", failures_since_start=5)
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.pk])
    assert admin_client_.post(url, {"post": "yes"}).status_code == 302
    assert not AccessAttempt.objects.exists()
    [event] = events(AuditEvent.Action.ACCESS_DELETED)
    assert event.username == "root"
    assert event.detail == {
        "target": "accessattempt",
        "username": "dr-lee",
        "client_ip": "10.0.0.7",
        "attempt_time": attempt.attempt_time.isoformat(),
        "failures_since_start": 5,
    }


def test_deleting_access_logs_in_the_admin_is_audited(admin_client_):
    from axes.models import AccessFailureLog, AccessLog

    logs = [_access(AccessLog), _access(AccessLog)]
    failure = _access(AccessFailureLog, locked_out=True)
    for model, rows in ((AccessLog, logs), (AccessFailureLog, [failure])):
        response = admin_client_.post(
            reverse(f"admin:axes_{model._meta.model_name}_changelist"),
            {"action": "delete_selected", "_selected_action": [r.pk for r in rows], "post": "yes"},
        )
        assert response.status_code == 302
        assert not model.objects.filter(pk__in=[r.pk for r in rows]).exists()
    deleted = events(AuditEvent.Action.ACCESS_DELETED)
    assert [(e.username, e.detail["target"]) for e in deleted] == [
        ("root", "accesslog"),
        ("root", "accesslog"),
        ("root", "accessfailurelog"),
    ]
    assert deleted[-1].detail["locked_out"] is True
