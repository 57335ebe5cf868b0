import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.templatetags.static import static

from tace_site import settings as project

MANAGE = [sys.executable, str(django_settings.BASE_DIR / "manage.py")]


def production_env(**changes):
    # Not what the test run itself sets: HTTPS off, async-unsafe on for the browser tests.
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_HTTPS", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env |= {
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_AUDIT_KEY": secrets.token_urlsafe(32),
        "DJANGO_ALLOWED_HOSTS": "tace.hospital.example",
        "DATABASE_URL": os.environ["DATABASE_URL"],
    }
    for key, value in changes.items():
        if value is None:
            env.pop(key)
        else:
            env[key] = value
    return env


def manage(*args, env):
    return subprocess.run([*MANAGE, *args], env=env, capture_output=True, text=True, timeout=60)


def test_debug_off_refuses_to_start_without_database_url():
    result = manage("check", env=production_env(DATABASE_URL=None))
    assert result.returncode != 0
    assert "ImproperlyConfigured: DATABASE_URL is required when DJANGO_DEBUG is off" in (
        result.stderr
    )


def test_collectstatic_output_is_served_by_whitenoise(settings, tmp_path, client):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = project.STORAGES
    settings.WHITENOISE_AUTOREFRESH = False
    call_command("collectstatic", "--no-input", verbosity=0)
    hashed = json.loads((tmp_path / "staticfiles.json").read_text())["paths"]["css/app.css"]
    assert hashed != "css/app.css"
    assert (tmp_path / f"{hashed}.gz").exists()
    assert static("css/app.css") == f"/static/{hashed}"

    response = client.get(f"/static/{hashed}")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == (tmp_path / hashed).read_bytes()


def test_check_deploy_passes_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())
    assert result.returncode == 0, result.stderr
    assert "no issues (1 silenced)" in result.stdout


def test_check_deploy_fails_on_plain_http():
    result = manage(
        "check", "--deploy", "--fail-level", "WARNING", env=production_env(DJANGO_HTTPS="0")
    )
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


def test_argon2_is_the_production_hasher(settings):
    settings.PASSWORD_HASHERS = project.PASSWORD_HASHERS
    encoded = make_password("a-long-test-password")
    assert encoded.startswith("argon2$")
    assert check_password("a-long-test-password", encoded)


def test_passwords_need_12_characters():
    with pytest.raises(ValidationError) as error:
        validate_password("kq7-vzr-m2p")
    assert [e.code for e in error.value.error_list] == ["password_too_short"]
    validate_password("kq7-vzr-m2p4")
