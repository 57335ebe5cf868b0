"""Every URL of the app, as every kind of user: the expected status, nothing else."""

import json
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assessments.models import Assessment
from followup import services as followup_services
from tests.api.conftest import ApiClient, token_for
from tests.factories import PASSWORD, amend_data, events, record

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
    # The language menu, on the login page too; it only sets a cookie.
    "set_language": ("post", dict.fromkeys(USERS, 302)),
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
    "assessments:edit_preview": ("post", WRITERS),
    "assessments:reevaluate_preview": ("post", WRITERS),
    "assessments:rules": ("get", ALL_LOGGED_IN),
    "assessments:patient": ("get", VIEWERS),
    # Follow-up: clinicians and consultants record, amend and void; reviewers read.
    "assessments:event_create": ("get", WRITERS),
    "assessments:event": ("get", VIEWERS),
    "assessments:event_edit": ("get", WRITERS),
    "assessments:event_void": ("get", WRITERS),
    "assessments:audit_log": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 403},
    ),
    "assessments:audit_export": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 403},
    ),
    # The unit's outcomes: reviewers and consultants.
    "assessments:outcomes": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 200},
    ),
    "assessments:outcomes_csv": (
        "get",
        {ANON: LOGIN, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 403, CONSULTANT: 200},
    ),
    # The API's browsable docs are a page for logged-in users.
    "api:docs": ("get", ALL_LOGGED_IN),
    # CDS Hooks: discovery is public; the services take the EHR's signed JWT, never a
    # session (tests/ehr/test_auth.py signs them); 401 for every user here.
    "ehr:discovery": ("get", dict.fromkeys(USERS, 200)),
    "ehr:service": ("post", dict.fromkeys(USERS, 401)),
    "ehr:feedback": ("post", dict.fromkeys(USERS, 401)),
    # The FHIR read is the API's: a session works as a token does, 401 without one.
    "ehr:fhir_risk_assessment": ("get", {**VIEWERS, ANON: 401}),
    # SMART App Launch: opened by the EHR, with no session; without a registered iss or a
    # launch under way, refused for every user (tests/ehr/test_smart.py launches).
    "smart:launch": ("get", dict.fromkeys(USERS, 403)),
    "smart:callback": ("get", dict.fromkeys(USERS, 403)),
    "ehr:fhir_vread": ("get", {**VIEWERS, ANON: 401}),
    "ehr:fhir_metadata": ("get", {**VIEWERS, ANON: 401}),
    # A search without parameters: 400 once the role is allowed.
    "ehr:fhir_search": (
        "get",
        {**VIEWERS, ANON: 401, REVIEWER: 400, CLINICIAN: 400, CONSULTANT: 400},
    ),
    # The test client posts multipart, not the search's form: 415 once the role is allowed.
    "ehr:fhir_search_post": (
        "post",
        {**VIEWERS, ANON: 401, REVIEWER: 415, CLINICIAN: 415, CONSULTANT: 415},
    ),
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
    (
        "ehr:fhir_risk_assessment",
        "get",
        None,
        {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200},
    ),  # fmt: skip
    ("ehr:fhir_vread", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    ("ehr:fhir_metadata", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 200, CLINICIAN: 200}),
    ("ehr:fhir_search", "get", None, {ANON: 401, NO_ROLE: 403, REVIEWER: 400, CLINICIAN: 400}),
    # The search's form, not JSON: 415 once the role is allowed.
    ("ehr:fhir_search_post", "post", {}, {ANON: 401, NO_ROLE: 403, REVIEWER: 415, CLINICIAN: 415}),
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


def page_url(name: str, assessment, event) -> str:
    """The URL of the page name, of that assessment, its patient or that event."""
    takes_pk = name in {
        "assessments:detail",
        "assessments:edit",
        "assessments:sign",
        "assessments:void",
        "assessments:history",
        "assessments:reevaluate",
        "assessments:edit_preview",
        "assessments:reevaluate_preview",
        "assessments:print",
        "ehr:fhir_risk_assessment",
    }
    args = [assessment.pk] if takes_pk else []
    if name == "ehr:fhir_vread":
        args = [assessment.pk, 1]
    if name == "assessments:patient":
        args = [assessment.patient.pk]
    elif name == "assessments:event_create":
        args = [assessment.patient.pk, "recurrence"]
    elif name.startswith("assessments:event"):
        args = [event.pk]
    elif name in {"ehr:service", "ehr:feedback"}:
        args = ["adjuvant-tace"]
    elif name == "assessments:outcomes_csv":
        args = ["rfs-risk"]
    return reverse(name, args=args)


@pytest.mark.parametrize("user", USERS)
def test_every_url_as_every_user(client, clinician, reviewer, consultant, no_role_user, user):
    assessment = record(clinician)
    event = followup_services.record_event(
        patient=assessment.patient,
        kind="no_recurrence",
        data={"date": assessment.resection_date},
        user=clinician,
    )
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
        url = page_url(name, assessment, event)
        response = getattr(client, method)(url)
        assert response.status_code == statuses[user], (name, user)
        if user == ANON and statuses[ANON] == LOGIN and name.startswith("assessments:"):
            assert response["Location"].startswith(reverse("login")), name


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_no_page_shows_template_source(client, clinician, reviewer, consultant, language):
    """A template comment or tag left unparsed (a {# #} over two lines is one) is printed.
    Every HTML page of the table, as each kind of user, in both languages."""
    # Recommended, resected 30 days ago: its window is open, on the worklist and the timeline.
    assessment = record(clinician, tumor_size_cm="6.0")
    event = followup_services.record_event(
        patient=assessment.patient,
        kind="no_recurrence",
        data={"date": assessment.resection_date},
        user=clinician,
    )
    for user in (None, reviewer, clinician, consultant):
        for name, (method, _) in EXPECTED.items():
            client.logout()
            if user is not None:
                client.force_login(user)
            url = page_url(name, assessment, event)
            response = getattr(client, method)(url, HTTP_ACCEPT_LANGUAGE=language)
            if not response.get("Content-Type", "").startswith("text/html"):
                continue  # data, not a page: CDS Hooks' prefetch templates are {{...}}
            for source in ("{#", "{%", "{{"):
                assert source.encode() not in response.content, (name, str(user), source)


def test_no_template_has_a_one_line_comment_over_two_lines():
    """Django's {# #} ends at the line's end: over two lines it is printed as text."""
    templates = [*(settings.BASE_DIR / "templates").rglob("*.html")]
    templates += [*settings.BASE_DIR.glob("*/templates/**/*.html")]
    assert templates
    for path in templates:
        text = path.read_text()
        for match in re.finditer(r"\{#(?:(?!#\}).)*$", text, re.MULTILINE):
            line = text.count("\n", 0, match.start()) + 1
            raise AssertionError(f"{path.name}:{line}: a {{# #}} comment over two lines")


# Roles


def test_roles_exist_with_least_privilege():
    def role(name):
        return set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))

    clinicians, consultants, reviewers = role("Clinicians"), role("Consultants"), role("Reviewers")
    assert {"add_assessment", "change_assessment", "void_assessment"} <= clinicians
    assert {"add_followupevent", "change_followupevent", "void_followupevent"} <= clinicians
    # Two-person sign-off: clinicians record, consultants sign.
    assert "sign_assessment" not in clinicians
    assert "view_outcomes" not in clinicians
    assert consultants == clinicians | {"sign_assessment", "export_assessment", "view_outcomes"}
    assert "view_auditevent" not in consultants
    assert reviewers == {
        "view_patient",
        "view_assessment",
        "view_historicalassessment",
        "view_historicalpatient",
        "view_followupevent",
        "view_historicalfollowupevent",
        "view_auditevent",
        "export_assessment",
        "view_outcomes",
    }
    everyone = clinicians | consultants | reviewers
    assert not any(code.startswith("delete_") for code in everyone)


@pytest.mark.parametrize("action", ["edit", "sign", "void"])
def test_reviewer_cannot_write(reviewer_client, clinician, reviewer, action):
    assessment = record(clinician)
    url = reverse(f"assessments:{action}", args=[assessment.pk])
    assert reviewer_client.get(url).status_code == 403
    data = {**amend_data(assessment), "password": PASSWORD, "reason": "Reviewer try"}
    assert reviewer_client.post(url, data).status_code == 403
    assessment.refresh_from_db()
    assert assessment.version == 1 and assessment.status == "draft"
    refused = events("permission_denied")
    assert len(refused) == 2
    assert refused[-1].user == reviewer
    assert refused[-1].detail["method"] == "POST"


def test_reviewer_cannot_create(reviewer_client, valid_data):
    assert reviewer_client.post(reverse("assessments:create"), valid_data).status_code == 403
    assert not Assessment.objects.exists()


def test_reviewer_reads_everything(reviewer_client, clinician):
    assessment = record(clinician)
    for url in [
        reverse("assessments:list"),
        assessment.get_absolute_url(),
        reverse("assessments:history", args=[assessment.pk]),
        assessment.patient.get_absolute_url(),
        reverse("assessments:audit_log"),
    ]:
        assert reviewer_client.get(url).status_code == 200, url


def test_clinician_does_not_see_the_audit_log(clinician_client):
    assert clinician_client.get(reverse("assessments:audit_log")).status_code == 403


def test_user_without_role_gets_a_clear_403(client, no_role_user, clinician):
    assessment = record(clinician)
    client.force_login(no_role_user)
    for url in [reverse("assessments:list"), assessment.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 403
        assert b"You do not have permission" in response.content
        assert b"MRN-1" not in response.content


@pytest.mark.parametrize("name", ["edit", "sign", "void", "history"])
def test_anonymous_sent_to_login(client, clinician, name):
    assessment = record(clinician)
    response = client.get(reverse(f"assessments:{name}", args=[assessment.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# What a reviewer sees


@pytest.mark.parametrize("user", USERS)
def test_every_api_url_as_every_user(clinician, reviewer, consultant, no_role_user, user):
    accounts = {
        NO_ROLE: no_role_user,
        REVIEWER: reviewer,
        CLINICIAN: clinician,
        CONSULTANT: consultant,
    }
    token = token_for(accounts[user]) if user != ANON else None
    for name, method, body, statuses in API_EXPECTED:
        assessment = record(clinician)  # a fresh one, at version 1, for each call
        args = {"api:patient": [assessment.patient.pk]}.get(name, [])
        if name in {
            "api:assessment",
            "api:amend",
            "api:void",
            "api:history",
            "ehr:fhir_risk_assessment",
        }:
            args = [assessment.pk]
        if name == "ehr:fhir_vread":
            args = [assessment.pk, 1]
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
        # Consultants hold the clinicians' permissions and more; signing is not in the API.
        statuses = {**statuses, CONSULTANT: statuses[CLINICIAN]}
        assert response.status_code == statuses[user], (name, method, user, response.content)
        assert "Location" not in response or statuses[user] == 201, name
        if statuses[user] >= 400:  # a refusal changes nothing
            assert Assessment.objects.get(pk=assessment.pk).version == 1, name
