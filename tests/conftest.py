import pytest


@pytest.fixture
def clinician(django_user_model):
    return django_user_model.objects.create_user(username="dr-lee", password="a-long-test-password")


@pytest.fixture
def clinician_client(client, clinician):
    client.force_login(clinician)
    return client


@pytest.fixture
def valid_data():
    return {
        "mrn": "mrn-0001",
        "resection_date": "2026-01-05",
        "tumor_size_cm": "5.1",
        "tumor_count": "1",
        "vascular_invasion": "none",
        "cirrhosis_grade": "mild",
        "prior_adjuvant_tace_sessions": "0",
        "notes": "",
    }


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
