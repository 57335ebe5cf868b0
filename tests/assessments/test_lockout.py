"""Login throttling (django-axes): 5 failures lock a username from one address."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.urls import reverse
from django.utils import timezone

from assessments.models import AuditEvent
from tests.factories import PASSWORD, record

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def attempt(client, password="wrong-password", username="dr-lee", **meta):
    return client.post(LOGIN, {"username": username, "password": password}, **meta)


def test_five_failures_lock_the_username_from_that_address(client, clinician):
    for _ in range(4):
        assert attempt(client, REMOTE_ADDR="10.0.0.7").status_code == 200
    locked = attempt(client, REMOTE_ADDR="10.0.0.7")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    # Even the right password is refused while locked.
    assert attempt(client, PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 429
    assert "_auth_user_id" not in client.session
    # Each refused attempt is recorded.
    events = AuditEvent.objects.filter(action="locked_out")
    assert events.count() == 2
    assert {(e.username, e.client_ip) for e in events} == {("dr-lee", "10.0.0.7")}


def test_the_lock_is_for_the_pair_only(client, clinician, other_clinician):
    for _ in range(5):
        attempt(client, REMOTE_ADDR="10.0.0.7")
    assert attempt(client, PASSWORD, REMOTE_ADDR="10.0.0.8").status_code == 302
    client.post(reverse("logout"))
    assert attempt(client, PASSWORD, "dr-ng", REMOTE_ADDR="10.0.0.7").status_code == 302


def test_the_lock_lifts_after_15_minutes(client, clinician):
    for _ in range(5):
        attempt(client, REMOTE_ADDR="10.0.0.7")
    assert attempt(client, PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 429
    # Age the recorded failures past the cool-off (AccessAttempt is axes' own table).
    for row in AccessAttempt.objects.all():
        row.attempt_time = timezone.now() - timedelta(minutes=15, seconds=1)
        row.save()
    assert attempt(client, PASSWORD, REMOTE_ADDR="10.0.0.7").status_code == 302


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXIES = ["192.0.2.1"]


def test_behind_the_proxy_the_client_is_locked_not_the_proxy(behind_one_proxy, client, clinician):
    proxy = {"REMOTE_ADDR": "192.0.2.1"}
    for _ in range(5):
        attempt(client, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert attempt(client, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.5").status_code == 429
    # A spoofed address to the left of what the proxy appended changes nothing.
    spoofed = "198.51.100.9, 203.0.113.5"
    assert attempt(client, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR=spoofed).status_code == 429
    # Another clinician's computer behind the same proxy logs in.
    assert attempt(client, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.6").status_code == 302
    locked = AuditEvent.objects.filter(action="locked_out")
    assert set(locked.values_list("client_ip", flat=True)) == {"203.0.113.5"}
    failed = AuditEvent.objects.filter(action="login_failed").first()
    assert failed.client_ip == "203.0.113.5"


def test_wrong_signing_passwords_count_towards_the_lockout(client, clinician, consultant):
    assessment = record(clinician)
    client.force_login(consultant)
    url = reverse("assessments:sign", args=[assessment.pk])
    for _ in range(5):
        client.post(url, {"password": "wrong-password", "version": 1})
    # Locked: logged out, and even the right password signs nothing.
    response = client.post(url, {"password": PASSWORD, "version": 1})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == "draft"
    assert AuditEvent.objects.filter(action="locked_out", username="dr-wu").exists()
    client.post(reverse("logout"))
    assert attempt(client, PASSWORD, username="dr-wu").status_code == 429


@pytest.mark.parametrize(
    ("proxies", "peer", "forwarded", "expected"),
    [
        ([], "192.0.2.1", "203.0.113.5", "192.0.2.1"),  # no proxy trusted: the header is ignored
        (["192.0.2.1"], "192.0.2.1", "203.0.113.5", "203.0.113.5"),
        (["192.0.2.1"], "192.0.2.1", "198.51.100.9, 203.0.113.5", "203.0.113.5"),
        # Two proxies: the nearest address that is not one of them.
        (
            ["192.0.2.0/24", "10.1.1.1"],
            "192.0.2.1",
            "198.51.100.9, 203.0.113.5, 10.1.1.1",
            "203.0.113.5",
        ),
        # Not from a proxy: whatever the header says, the peer counts.
        (["192.0.2.1"], "198.51.100.7", "203.0.113.5", "198.51.100.7"),
        (["192.0.2.1"], "192.0.2.1", "not-an-address", None),
        (["192.0.2.1"], "192.0.2.1", "", "192.0.2.1"),
        (["::1"], "::1", "2001:db8::5", "2001:db8::5"),
    ],
)
def test_client_ip(settings, rf, proxies, peer, forwarded, expected):
    from common.proxy import client_ip

    settings.TRUSTED_PROXIES = proxies
    request = rf.get("/", REMOTE_ADDR=peer, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_a_client_talking_to_the_app_directly_cannot_dodge_the_lockout(settings, client, clinician):
    settings.TRUSTED_PROXIES = ["192.0.2.1"]
    for number in range(5):
        attempt(client, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR=f"203.0.113.{number}")
    forged = attempt(client, PASSWORD, REMOTE_ADDR="198.51.100.7", HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert forged.status_code == 429
    failed = AuditEvent.objects.filter(action="login_failed")
    assert set(failed.values_list("client_ip", flat=True)) == {"198.51.100.7"}
