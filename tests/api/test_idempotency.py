"""POST assessments with an Idempotency-Key: a retry answers the first result again."""

from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import IdempotencyKey
from assessments.models import Assessment, AuditEvent
from tests.api.conftest import ApiClient, token_for
from tests.api.test_endpoints import new_assessment

pytestmark = pytest.mark.django_db

KEY = "6f1c7f0e-4d7a-4c55-9a43-2b1d1b8d7e10"


def create(api, body, key=KEY):
    return api.post("assessments", body, **({"Idempotency-Key": key} if key else {}))


def test_the_same_key_and_body_answer_the_first_result(clinician_api):
    first = create(clinician_api, new_assessment())
    assert first.status_code == 201
    again = create(clinician_api, new_assessment())
    assert again.status_code == 201
    assert again.content == first.content
    assert again["Location"] == first["Location"] and again["ETag"] == first["ETag"]
    assert again["Idempotent-Replayed"] == "true"
    assert Assessment.objects.count() == 1
    assert AuditEvent.objects.filter(action="api_create").count() == 1
    replay = AuditEvent.objects.filter(action="view_assessment").get()
    assert replay.detail["idempotent_replay"] is True


def test_key_order_and_spacing_are_the_same_body(clinician_api):
    body = new_assessment()
    assert create(clinician_api, body).status_code == 201
    reordered = dict(reversed(list(body.items())))
    assert create(clinician_api, reordered).status_code == 201
    assert Assessment.objects.count() == 1


def test_the_same_key_with_another_body_is_refused(clinician_api):
    assert create(clinician_api, new_assessment()).status_code == 201
    refused = create(clinician_api, new_assessment(tumor_size_cm=7))
    assert refused.status_code == 422
    assert list(refused.json()["errors"]) == ["Idempotency-Key"]
    assert "another body" in refused.json()["errors"]["Idempotency-Key"][0]
    assert Assessment.objects.count() == 1


def test_without_a_key_each_post_records(clinician_api):
    for _ in range(2):
        assert (
            create(clinician_api, new_assessment(confirm_duplicate=True), key=None).status_code
            == 201
        )
    assert Assessment.objects.count() == 2
    assert not IdempotencyKey.objects.exists()


def test_keys_are_per_user(clinician_api, other_clinician):
    other = ApiClient(token_for(other_clinician))
    assert create(clinician_api, new_assessment()).status_code == 201
    theirs = create(other, new_assessment(confirm_duplicate=True))
    assert theirs.status_code == 201 and "Idempotent-Replayed" not in theirs
    assert Assessment.objects.count() == 2


def test_a_key_expires_after_24_hours(clinician_api):
    assert create(clinician_api, new_assessment()).status_code == 201
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=24, seconds=1))
    later = create(clinician_api, new_assessment(tumor_size_cm=7, confirm_duplicate=True))
    assert later.status_code == 201 and "Idempotent-Replayed" not in later
    assert Assessment.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1  # the expired one is gone


def test_a_refused_create_keeps_no_key(clinician_api):
    refused = create(clinician_api, new_assessment(tumor_size_cm="2,5"))
    assert refused.status_code == 400
    corrected = create(clinician_api, new_assessment())
    assert corrected.status_code == 201 and "Idempotent-Replayed" not in corrected


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "é"])
def test_a_malformed_key_is_refused_naming_the_header(clinician_api, key):
    response = clinician_api.client.post(
        "/api/v1/assessments",
        "{}",
        content_type="application/json",
        headers={**clinician_api.headers, "Idempotency-Key": key},
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["Idempotency-Key"]
