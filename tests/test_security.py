import logging
import re
from pathlib import Path
from unittest import mock

import pytest
from django.db import OperationalError
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def csp_directives(response):
    policy = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())


@pytest.mark.parametrize("logged_in", [False, True])
def test_security_headers_on_the_login_page_and_an_app_page(client, clinician, logged_in):
    if logged_in:
        client.force_login(clinician)
    response = client.get("/assessments/" if logged_in else reverse("login"))
    assert response.status_code == 200
    directives = csp_directives(response)
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["form-action"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_session_cookie_is_http_only(client, clinician):
    response = client.post(
        reverse("login"), {"username": "dr-lee", "password": "a-long-test-password"}
    )
    assert response.status_code == 302
    assert response.cookies["sessionid"]["httponly"] is True


def test_templates_have_no_inline_script_or_style():
    # The policy has no 'unsafe-inline': such markup would be blocked in the browser.
    for template in TEMPLATES.rglob("*.html"):
        html = template.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), template
        assert not re.search(r"\sstyle=|<style", html), template
        assert not re.search(r"\son[a-z]+=", html), template


def test_https_redirect_spares_healthz_and_trusts_the_proxy_header(settings, client):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("login"))
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    assert client.get("/healthz").status_code == 200
    claimed = client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
    assert claimed.status_code == 301  # the test client's address is no proxy
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    behind_proxy = client.get(reverse("login"), headers={"X-Forwarded-Proto": "https"})
    assert behind_proxy.status_code == 200


def test_error_pages_and_logs_do_not_echo_the_request(clinician_client, caplog, settings):
    assert settings.ADMINS == []
    caplog.set_level(logging.INFO)
    response = clinician_client.get("/no-such-page/", {"q": "MRN-SECRET-1"})
    assert response.status_code == 404
    assert b"MRN-SECRET-1" not in response.content

    clinician_client.raise_request_exception = False
    with mock.patch(
        "django.db.backends.utils.CursorWrapper.execute", side_effect=OperationalError("down")
    ):
        response = clinician_client.get("/assessments/", {"q": "MRN-SECRET-1"})
    assert response.status_code == 500
    assert b"MRN-SECRET-1" not in response.content
    assert "Internal Server Error: /assessments/" in caplog.text
    assert "MRN-SECRET-1" not in caplog.text
