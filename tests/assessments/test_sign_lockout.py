"""Wrong signing passwords count towards the lockout; the sign page says so before the end."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from assessments.models import AuditEvent
from tests.factories import PASSWORD, record

pytestmark = pytest.mark.django_db

WARNING = "One more wrong password locks your account"


def sign(client, assessment, password="wrong-password"):
    url = reverse("assessments:sign", args=[assessment.pk])
    return client.post(url, {"password": password, "version": assessment.version})


def failures():
    return sum(AccessAttempt.objects.values_list("failures_since_start", flat=True))


def test_a_correct_password_resets_the_count(client, clinician, consultant):
    first, second = record(clinician), record(clinician, mrn="MRN-2")
    client.force_login(consultant)
    for _ in range(3):
        sign(client, first)
    assert failures() == 3
    assert sign(client, first, PASSWORD).status_code == 302
    assert failures() == 0
    # Without the reset these two would make five, and lock the account.
    for _ in range(2):
        assert sign(client, second).status_code == 200
    assert failures() == 2
    assert "_auth_user_id" in client.session


def test_the_page_warns_before_the_last_attempt(client, clinician, consultant):
    assessment = record(clinician)
    client.force_login(consultant)
    for _ in range(3):
        assert WARNING not in sign(client, assessment).content.decode()
    assert WARNING in sign(client, assessment).content.decode()


def test_a_lockout_while_signing_ends_the_session_with_a_clear_message(
    client, clinician, consultant
):
    assessment = record(clinician)
    client.force_login(consultant)
    for _ in range(4):
        sign(client, assessment)
    locked = sign(client, assessment)
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "Too many failed logins" in page
    assert "nothing was signed, and you were logged out" in page
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="locked_out", username="dr-wu").exists()
    # Nothing half-working is left: the next page asks for a login.
    response = client.get(assessment.get_absolute_url())
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assessment.refresh_from_db()
    assert assessment.status == "draft"
