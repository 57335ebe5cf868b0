import pytest

from tests.api.conftest import ApiClient, token_for

pytestmark = pytest.mark.django_db


def test_per_token(settings, clinician):
    settings.API_THROTTLE_RATES = {"token": "3/min", "address": "100/min"}
    one, two = ApiClient(token_for(clinician, "one")), ApiClient(token_for(clinician, "two"))
    assert [one.get("assessments").status_code for _ in range(3)] == [200, 200, 200]
    refused = one.get("assessments")
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert list(refused.json()["errors"]) == ["__all__"]
    assert two.get("assessments").status_code == 200  # another token counts on its own


def test_per_address_wrong_tokens_too(settings, clinician):
    settings.API_THROTTLE_RATES = {"token": "100/min", "address": "3/min"}
    good = ApiClient(token_for(clinician))
    wrong = ApiClient("not-a-token")
    assert [wrong.get("assessments").status_code for _ in range(2)] == [401, 401]
    assert good.get("assessments").status_code == 200
    refused = good.get("assessments")
    assert refused.status_code == 429 and "Retry-After" in refused
    other = ApiClient(token_for(clinician, "elsewhere"))
    response = other.client.get(
        "/api/v1/assessments", headers=other.headers, REMOTE_ADDR="10.0.0.9"
    )
    assert response.status_code == 200


def test_wrong_tokens_alone_are_answered_429(settings):
    """A client guessing tokens is slowed down like any other: its address's count runs
    out, and it is answered 429, not 401 forever."""
    settings.API_THROTTLE_RATES = {"token": "100/min", "address": "3/min"}
    wrong = ApiClient("not-a-token")
    statuses = [wrong.get("assessments").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    refused = wrong.get("assessments")
    assert 0 < int(refused["Retry-After"]) <= 60
    assert list(refused.json()["errors"]) == ["__all__"]
