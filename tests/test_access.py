"""Every URL of the app, as every kind of user: the expected status, nothing else."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.conftest import record

pytestmark = pytest.mark.django_db

ANON, NO_ROLE, REVIEWER, CLINICIAN, CONSULTANT = (
    "anonymous",
    "no role",
    "reviewer",
    "clinician",
    "consultant",
)
USERS = [ANON, NO_ROLE, REVIEWER, CLINICIAN, CONSULTANT]
LOGIN = 302  # anonymous users are sent to the login page
ALL_LOGGED_IN = {ANON: LOGIN, NO_ROLE: 200, REVIEWER: 200, CLINICIAN: 200, CONSULTANT: 200}
VIEWERS = {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200, CONSULTANT: 200}
WRITERS = {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 200, CONSULTANT: 200}

# name: (method, {user: status})
EXPECTED = {
    "login": ("get", dict.fromkeys(USERS, 200)),
    "logout": ("post", dict.fromkeys(USERS, 302)),
    "password_change": ("get", ALL_LOGGED_IN),
    "password_change_done": ("get", ALL_LOGGED_IN),
    "healthz": ("get", dict.fromkeys(USERS, 200)),
    "admin:index": ("get", dict.fromkeys(USERS, 302)),
    "assessments:worklist": ("get", VIEWERS),
    "assessments:list": ("get", VIEWERS),
    # Reviewers and consultants export; clinicians do not.
    "assessments:export": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 200},
    ),
    "assessments:create": ("get", WRITERS),
    "assessments:detail": ("get", VIEWERS),
    "assessments:print": ("get", VIEWERS),
    "assessments:edit": ("get", WRITERS),
    # A second person signs: the consultant, not the clinician who made it.
    "assessments:sign": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 403, CONSULTANT: 200},
    ),
    "assessments:void": ("get", WRITERS),
    "assessments:history": ("get", VIEWERS),
    # Already under the newest ruleset: the clinician is sent back to the assessment.
    "assessments:reevaluate": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 403, CLINICIAN: 302, CONSULTANT: 302},
    ),
    "assessments:preview": ("post", WRITERS),
    "assessments:rules": ("get", ALL_LOGGED_IN),
    "assessments:patient": ("get", VIEWERS),
    "assessments:audit_log": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 403},
    ),
    "assessments:audit_export": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 403},
    ),
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


@pytest.mark.parametrize("user", USERS)
def test_every_url_as_every_user(client, clinician, reviewer, consultant, no_role_user, user):
    assessment = record(clinician)
    accounts = {
        NO_ROLE: no_role_user,
        REVIEWER: reviewer,
        CLINICIAN: clinician,
        CONSULTANT: consultant,
    }
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
            "assessments:print",
        }
        args = [assessment.pk] if takes_pk else []
        if name == "assessments:patient":
            args = [assessment.patient.pk]
        url = reverse(name, args=args)
        response = getattr(client, method)(url)
        assert response.status_code == statuses[user], (name, user)
        if user == ANON and statuses[ANON] == LOGIN and name.startswith("assessments:"):
            assert response["Location"].startswith(reverse("login")), name
