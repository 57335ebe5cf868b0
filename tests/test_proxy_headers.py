"""X-Forwarded-Proto is believed only from DJANGO_TRUSTED_PROXIES."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PROXY = "192.0.2.1"
PAGE = "/accounts/login/"


@pytest.fixture
def https_site(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.TRUSTED_PROXIES = [PROXY]


def get(address, proto=None):
    headers = {"X-Forwarded-Proto": proto} if proto else {}
    return Client(REMOTE_ADDR=address).get(PAGE, headers=headers)


def test_a_client_cannot_claim_https(https_site):
    response = get("203.0.113.5", "https")
    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{PAGE}"


def test_the_proxy_is_believed(https_site):
    assert get(PROXY, "https").status_code == 200
    assert get(PROXY).status_code == 301  # no header from the proxy: plain HTTP


def test_is_secure_follows_the_proxy_only(settings, clinician):
    settings.TRUSTED_PROXIES = [PROXY]
    for address, secure in ((PROXY, True), ("203.0.113.5", False)):
        client = Client(REMOTE_ADDR=address)
        client.force_login(clinician)
        response = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
        assert response.wsgi_request.is_secure() is secure
