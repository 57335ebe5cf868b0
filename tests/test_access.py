"""Every URL of the app, as every kind of user: the expected status, nothing else."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

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
    # The language menu, on the login page too; it only sets a cookie.
    "set_language": ("post", {ANON: 302, NO_ROLE: 302, REVIEWER: 302, CLINICIAN: 302}),
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
    "assessments:edit_preview": (
        "post",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200},
    ),
    "assessments:reevaluate_preview": (
        "post",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200},
    ),
    "assessments:rules": ("get", {ANON: LOGIN, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200}),
    "assessments:patient": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    "assessments:audit_log": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403}),
    "assessments:audit_export": ("get", {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403}),
}


def url_names(patterns=None, namespace=""):
    for pattern in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace != "admin":  # Django's admin checks its own permissions
                yield from url_names(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield f"{namespace}:{pattern.name}" if namespace else pattern.name


def test_the_table_covers_every_url():
    assert set(url_names()) | {"admin:index"} == set(EXPECTED)


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
            "assessments:edit_preview",
            "assessments:reevaluate_preview",
        }
        args = [assessment.pk] if takes_pk else []
        if name == "assessments:patient":
            args = [assessment.patient.pk]
        url = reverse(name, args=args)
        response = getattr(client, method)(url)
        assert response.status_code == statuses[user], (name, user)
        if user == ANON and statuses[ANON] == LOGIN and name.startswith("assessments:"):
            assert response["Location"].startswith(reverse("login")), name
