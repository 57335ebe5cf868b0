"""The admin is read-only: django-simple-history's revert form writes nothing either."""

import pytest
from django.urls import reverse

from assessments.models import Assessment, Patient
from tests.conftest import PASSWORD, record

pytestmark = pytest.mark.django_db


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
