"""Each write path: one history row with user, action and reason; refusals change nothing."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, amend_data, events, record

pytestmark = pytest.mark.django_db


def history_count(assessment):
    return assessment.history.count()


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
