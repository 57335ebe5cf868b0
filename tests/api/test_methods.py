"""HEAD and OPTIONS are checked as GET is, or refused, on every API and FHIR route:
a user in no group learns nothing (no status 200, no ETag, no size) and no view is
audited for them."""

import pytest
from django.test import Client

from assessments.models import AuditEvent
from tests.api.conftest import token_for
from tests.factories import record

pytestmark = pytest.mark.django_db

VIEWS = {"view_assessment", "view_history", "view_patient", "fhir_read", "api_lookup"}


def routes(assessment) -> list[str]:
    a, p = assessment.pk, assessment.patient_id
    return [
        "/api/v1/evaluate",
        "/api/v1/assessments",
        f"/api/v1/assessments/{a}",
        f"/api/v1/assessments/{a}/amend",
        f"/api/v1/assessments/{a}/void",
        f"/api/v1/assessments/{a}/history",
        "/api/v1/patients/lookup",
        f"/api/v1/patients/{p}",
        f"/fhir/RiskAssessment/{a}",
        f"/fhir/RiskAssessment/{a}/_history/1",
        "/fhir/RiskAssessment?subject:identifier=MRN-1",
        "/fhir/RiskAssessment/_search",
        "/fhir/metadata",
    ]


def call(method: str, path: str, token: str):
    client = Client()
    return client.generic(method, path, headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
def test_a_user_in_no_group_learns_nothing(method, clinician, no_role_user):
    assessment = record(clinician)
    token = token_for(no_role_user)
    for path in routes(assessment):
        response = call(method, path, token)
        assert response.status_code in (403, 405), (path, response.status_code)
        assert "ETag" not in response and "Last-Modified" not in response, path
    assert not AuditEvent.objects.filter(action__in=VIEWS).exists()


def test_head_is_checked_as_get_is(clinician, reviewer):
    assessment = record(clinician)
    token = token_for(reviewer)
    for path in routes(assessment):
        get = call("GET", path, token)
        head = call("HEAD", path, token)
        expected = get.status_code if get.status_code != 405 else 405
        assert head.status_code == expected, (path, get.status_code, head.status_code)
        assert head.content == b""
        if get.status_code == 200:
            assert head.get("ETag") == get.get("ETag"), path


def test_options_is_refused(clinician):
    assessment = record(clinician)
    token = token_for(clinician)
    for path in routes(assessment):
        assert call("OPTIONS", path, token).status_code == 405, path
