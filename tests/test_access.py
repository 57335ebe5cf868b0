"""Every URL of the app, as every kind of user: the expected status, nothing else."""

import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assessments.models import Assessment
from tests.api.conftest import ApiClient, token_for
from tests.conftest import record

pytestmark = pytest.mark.django_db

ANON, NO_ROLE, REVIEWER, CLINICIAN = "anonymous", "no role", "reviewer", "clinician"
LOGIN = 302  # anonymous users are sent to the login page

# name: (method, {user: status})
EXPECTED = {
    "home": ("get", {ANON: 302, NO_ROLE: 302, REVIEWER: 302, CLINICIAN: 302}),
    "login": ("get", {ANON: 200, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200}),
    "logout": ("post", {ANON: 302, NO_ROLE: 302, REVIEWER: 302, CLINICIAN: 302}),
    "healthz": ("get", {ANON: 200, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200}),
    "admin:index": ("get", {ANON: 302, NO_ROLE: 302, REVIEWER: 302, CLINICIAN: 302}),
    "assessments:list": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    "assessments:create": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    "assessments:detail": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    "assessments:edit": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    "assessments:sign": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    "assessments:void": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    "assessments:history": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    # Already under the newest ruleset: the clinician is sent back to the assessment.
    "assessments:reevaluate": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 302}),
    "assessments:preview": ("post", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    "assessments:rules": ("get", {ANON: LOGIN, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200}),
    "assessments:patient": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    "assessments:audit_log": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403}),
    "assessments:audit_export": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403}),
    # The API's browsable docs are a page for logged-in users.
    "api:docs": ("get", {ANON: LOGIN, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200}),
}

# The API, called with each user's token: (name, method, body, {user: status}).
# Anonymous calls answer 401, never a redirect; a Reviewers token reads, never writes.
INPUTS = {"tumor_size_cm": "5.1", "tumor_count": 1, "vascular_invasion": "none",
          "cirrhosis_grade": "mild"}  # fmt: skip
NEW = {**INPUTS, "mrn": "API-9", "resection_date": "2026-01-05", "notes": ""}
AMEND = {**INPUTS, "resection_date": "2026-01-05", "notes": "", "reason": "Remeasured"}
API_EXPECTED = [
    ("api:evaluate", "post", INPUTS, {ANON: 401, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    ("api:assessments", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    ("api:assessments", "post", NEW, {ANON: 401, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 201}),
    ("api:assessment", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    ("api:amend", "post", AMEND, {ANON: 401, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200}),
    (
        "api:void",
        "post",
        {"reason": "Wrong patient"},
        {ANON: 401, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200},
    ),  # fmt: skip
    ("api:history", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    (
        "api:patient_lookup",
        "post",
        {"mrn": "MRN-1"},
        {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200},
    ),  # fmt: skip
    ("api:patient", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    ("api:schema", "get", None, {ANON: 401, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200}),
]


def url_names(patterns=None, namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":  # Django's admin checks its own permissions
                yield from url_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_the_table_covers_every_url():
    api = {name for name, *_ in API_EXPECTED}
    assert set(url_names()) | {"admin:index"} == set(EXPECTED) | api


@pytest.mark.parametrize("user", [ANON, NO_ROLE, REVIEWER, CLINICIAN])
def test_every_url_as_every_user(client, clinician, reviewer, no_role_user, user):
    assessment = record(clinician)
    accounts = {NO_ROLE: no_role_user, REVIEWER: reviewer, CLINICIAN: clinician}
    for name, (method, statuses) in EXPECTED.items():
        client.logout()
        if user != ANON:
            client.force_login(accounts[user])
        takes_pk = name in {
            "assessments:detail",
            "assessments:edit",
            "assessments:sign",
            "assessments:void",
            "assessments:history",
            "assessments:reevaluate",
        }
        args = [assessment.pk] if takes_pk else []
        if name == "assessments:patient":
            args = [assessment.patient.pk]
        url = reverse(name, args=args)
        response = getattr(client, method)(url)
        assert response.status_code == statuses[user], (name, user)
        if user == ANON and statuses[ANON] == LOGIN and name.startswith("assessments:"):
            assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("user", [ANON, NO_ROLE, REVIEWER, CLINICIAN])
def test_every_api_url_as_every_user(clinician, reviewer, no_role_user, user):
    accounts = {NO_ROLE: no_role_user, REVIEWER: reviewer, CLINICIAN: clinician}
    token = token_for(accounts[user]) if user != ANON else None
    for name, method, body, statuses in API_EXPECTED:
        assessment = record(clinician)  # a fresh one, at version 1, for each call
        args = {"api:patient": [assessment.patient.pk]}.get(name, [])
        if name in {"api:assessment", "api:amend", "api:void", "api:history"}:
            args = [assessment.pk]
        url = reverse(name, args=args)
        api = ApiClient(token)
        if method == "get":
            response = api.client.get(url, headers=api.headers)
        else:
            response = api.client.post(
                url,
                json.dumps(body),
                content_type="application/json",
                headers={**api.headers, "If-Match": '"1"'},
            )
        assert response.status_code == statuses[user], (name, method, user, response.content)
        assert "Location" not in response or statuses[user] == 201, name
        if statuses[user] >= 400:  # a refusal changes nothing
            assert Assessment.objects.get(pk=assessment.pk).version == 1, name
