from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import cache, caches
from django.db import connection
from django.utils import timezone

from assessments import roles
from assessments.audit import drop_append_only_triggers, install_append_only_triggers
from tests.factories import make_user


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
