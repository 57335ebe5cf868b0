from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone

from assessments import roles, rules, services
from assessments.audit import drop_append_only_triggers, install_append_only_triggers
from assessments.forms import IMPLAUSIBLE_FIELDS, POSSIBLE_DUPLICATE, AssessmentForm
from assessments.models import Assessment, AuditEvent, Patient

PASSWORD = "a-long-test-password"

# A full liver-function panel in mg/dL and g/dL: Child-Pugh 9 (class B), ALBI grade 2.
PANEL = {
    "bilirubin": "3.0",
    "bilirubin_unit": "mg_dl",
    "albumin": "3.4",
    "albumin_unit": "g_dl",
    "inr": "1.8",
    "ascites": "mild",
    "encephalopathy": "none",
}


@pytest.fixture(autouse=True)
def _transactional_tests_start_as_migrated(request):
    """Tests that commit are followed by a flush (DELETE on SQLite), which the
    append-only triggers refuse: drop them just before it. The flush also
    empties what the migrations made; each such test starts with the triggers
    and the roles in place."""
    marker = request.node.get_closest_marker("django_db")
    transactional = {"transactional_db", "live_server"} & set(request.fixturenames) or (
        marker is not None and marker.kwargs.get("transaction")
    )
    if not transactional:
        yield
        return
    request.getfixturevalue("_django_db_helper")
    install_append_only_triggers(connection)
    for name, codenames in roles.ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            Permission.objects.filter(content_type__app_label="assessments", codename__in=codenames)
        )
    yield
    drop_append_only_triggers(connection)


@pytest.fixture(autouse=True)
def settings_for_tests(settings):
    # Argon2 is slow on purpose (test_settings.py checks it is the production hasher).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tests run without collectstatic: no manifest of hashed names (test_settings.py runs
    # collectstatic itself), no STATIC_ROOT for WhiteNoise to scan at start.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    # Each test starts with an empty cache: no permissions, counts or outcomes of an earlier
    # one (its database starts afresh, its ids from the start again).
    cache.clear()
    caches["fragments"].clear()  # the base page's parts (templates/base.html)


def make_user(django_user_model, username, *groups):
    user = django_user_model.objects.create_user(username=username, password=PASSWORD)
    user.groups.set(Group.objects.filter(name__in=groups))
    return user


@pytest.fixture
def clinician(django_user_model):
    return make_user(django_user_model, "dr-lee", "Clinicians")


@pytest.fixture
def other_clinician(django_user_model):
    return make_user(django_user_model, "dr-ng", "Clinicians")


@pytest.fixture
def consultant(django_user_model):
    return make_user(django_user_model, "dr-wu", "Consultants")


@pytest.fixture
def consultant_client(client, consultant):
    client.force_login(consultant)
    return client


@pytest.fixture
def reviewer(django_user_model):
    return make_user(django_user_model, "rev-kim", "Reviewers")


@pytest.fixture
def no_role_user(django_user_model):
    return make_user(django_user_model, "nobody")


@pytest.fixture
def clinician_client(client, clinician):
    client.force_login(clinician)
    return client


@pytest.fixture
def reviewer_client(client, reviewer):
    client.force_login(reviewer)
    return client


@pytest.fixture
def valid_data():
    return {
        "mrn": "mrn-0001",
        "resection_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "tumor_size_cm": "5.1",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "mild",
        "prior_adjuvant_tace_sessions": "0",
        "notes": "",
    }


def record(user, **changes):
    data = {
        "mrn": "MRN-1",
        "resection_date": (timezone.localdate() - timedelta(days=30)).isoformat(),
        "tumor_size_cm": "3.0",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "none",
        "notes": "",
        # Tests record the same patient and resection many times, and unusual values.
        "confirm_duplicate": [POSSIBLE_DUPLICATE],
        "confirm_implausible": list(IMPLAUSIBLE_FIELDS),
        **changes,
    }
    form = AssessmentForm(data=data)
    assert form.is_valid(), form.errors
    return services.record_assessment(data=form.cleaned_data, user=user)


def ruleset_1_assessment(user, ruleset="1", **inputs) -> Assessment:
    """An assessment as an older ruleset saved it (by default ruleset 1, before ruleset 2
    existed), with no liver panel."""
    values = {
        "tumor_size_cm": Decimal("4.0"),
        "tumor_count": 1,
        "vascular_invasion": "microvascular",
        "cirrhosis_grade": "moderate",
        **inputs,
    }
    result = rules.evaluate(rules.Inputs(**values), ruleset=ruleset).as_dict()
    result.pop("liver_function", None)
    patient = Patient.objects.create(mrn=f"OLD-{ruleset}")
    resected = timezone.localdate() - timedelta(days=20)
    assessment = Assessment(
        patient=patient, resection_date=resected, created_by=user, **values, **result
    )
    assessment.save()
    return assessment


def amend_data(assessment, **changes):
    """The amend form's fields as the assessment holds them, with changes."""
    data = {
        "resection_date": assessment.resection_date.isoformat(),
        "tumor_size_cm": str(assessment.tumor_size_cm),
        "tumor_count": str(assessment.tumor_count),
        "vascular_invasion": assessment.vascular_invasion,
        "cirrhosis_grade": assessment.cirrhosis_grade,
        "prior_adjuvant_tace_sessions": str(assessment.prior_adjuvant_tace_sessions),
        "notes": assessment.notes,
        "change_reason": "Pathology report revised the tumor size.",
        "version": str(assessment.version),
    }
    return {**data, **changes}


def events(action):
    """The audit events of one action, oldest first."""
    return list(AuditEvent.objects.filter(action=action).order_by("id"))
