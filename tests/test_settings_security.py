"""Settings that must fail loudly with debug off, and those the pen test asked for."""

import pytest

from tests.test_settings import manage, production_env

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"DJANGO_SECRET_KEY": "x" * 49}, "DJANGO_SECRET_KEY is too weak"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "x" * 50}, "DJANGO_SECRET_KEY is too weak"),
        ({"DJANGO_AUDIT_KEY": None}, "DJANGO_AUDIT_KEY is required"),
        ({"DJANGO_AUDIT_KEY": "short"}, "DJANGO_AUDIT_KEY is too weak"),
        ({"DJANGO_TRUSTED_PROXY_COUNT": "1"}, "replaced by DJANGO_TRUSTED_PROXIES"),
        ({"DJANGO_TRUSTED_PROXIES": "10.0.0.1,proxy.example"}, "is not an IP address"),
        ({"DJANGO_ADMIN_URL": "/admin"}, "DJANGO_ADMIN_URL must look like"),
    ],
)
def test_debug_off_refuses_to_start(changes, message):
    result = manage("check", env=production_env(**changes))
    assert result.returncode != 0
    assert message in result.stderr


def test_the_audit_key_must_differ_from_the_secret_key():
    key = "k" * 60
    result = manage("check", env=production_env(DJANGO_SECRET_KEY=key, DJANGO_AUDIT_KEY=key))
    assert result.returncode != 0
    assert "DJANGO_AUDIT_KEY must differ from DJANGO_SECRET_KEY" in result.stderr


def test_check_deploy_stays_clean_with_every_new_setting():
    env = production_env(DJANGO_TRUSTED_PROXIES="10.0.0.1,::1", DJANGO_ADMIN_URL="staff-9f2/")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stderr


def test_the_admin_url_is_a_setting():
    code = "from django.urls import reverse; print(reverse('admin:index'))"
    result = manage("shell", "-c", code, env=production_env(DJANGO_ADMIN_URL="staff-9f2/"))
    assert result.stdout.splitlines()[-1] == "/staff-9f2/"
    default = manage("shell", "-c", code, env=production_env())
    assert default.stdout.splitlines()[-1] == "/admin/"
